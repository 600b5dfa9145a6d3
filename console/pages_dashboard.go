package console

import (
	"fmt"
	"net/http"
	"time"

	"usercenter/core"
	"usercenter/obs"
)

// The dashboard: per app the counts the store keeps (never a scan of the
// users), a chart of the last 30 days' sign-ups, and the process's own
// requests and errors by API over the last hour.

type dashboardData struct {
	page
	Apps         []appPanel
	Traffic      []obs.ActionTraffic
	TrafficSince string
	NoTraffic    bool // the console runs without the process's metrics
}

// appPanel is one app on the dashboard.
type appPanel struct {
	*core.AppStats
	Chart chart
}

// chart is a bar chart of new users per day, drawn by the template as
// SVG: coordinates in a viewBox of chartWidth by chartHeight.
type chart struct {
	ID   string // for aria-labelledby
	Bars []bar
	Max  int
}

type bar struct {
	X, Y, W, H float64
	Label      string // the day, for the bar's title and the table
	Count      int
}

const (
	chartWidth  = 600
	chartHeight = 120
)

func newChart(id string, days []core.DayCount) chart {
	c := chart{ID: id, Max: 1}
	for _, d := range days {
		c.Max = max(c.Max, d.Created)
	}
	w := float64(chartWidth) / float64(max(len(days), 1))
	for i, d := range days {
		h := float64(d.Created) / float64(c.Max) * (chartHeight - 4)
		if d.Created > 0 && h < 1 {
			h = 1
		}
		c.Bars = append(c.Bars, bar{
			X: float64(i)*w + 1, W: w - 2, Y: chartHeight - h, H: h,
			Label: d.Day.Format("Mon 2 Jan"), Count: d.Created,
		})
	}
	return c
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	apps, err := s.svc.VisibleApps(ctx, actor)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := dashboardData{page: s.page(r)}
	for _, app := range apps {
		st, err := s.svc.AppStats(ctx, actor, app.SdkAppID)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		data.Apps = append(data.Apps, appPanel{AppStats: st, Chart: newChart(fmt.Sprintf("chart-%d", app.SdkAppID), st.Days)})
	}
	if s.traffic == nil {
		data.NoTraffic = true
	} else {
		now := time.Now()
		traffic, since, err := s.traffic.LastHour(now)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		data.Traffic, data.TrafficSince = traffic, formTime(since)
	}
	s.show(w, r, data.page, "dashboard", data)
}
