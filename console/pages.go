package console

import "net/http"

// pageRoutes registers the pages over core's use cases (dashboard, apps,
// keys, users, audit). This is a placeholder dashboard: the pages'
// branch (conspages) replaces this whole file.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.Handle("GET /console/{$}", s.signedIn(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, "home.html", nil)
	}))
}
