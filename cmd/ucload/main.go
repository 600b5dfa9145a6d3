// Command ucload puts a bounded load on a running usercenter through the
// official Tencent Cloud Go SDK and reports throughput and latency.
//
//	ucload -endpoint 127.0.0.1:8080 -secret-id AKID… -secret-key … -app 14… \
//	  -action RegisterUser -concurrency 16 -duration 10s
//
// It only talks to loopback addresses: it is a measuring tool, not a
// traffic generator for other hosts.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ucload:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ucload", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "127.0.0.1:8080", "usercenter host:port (loopback only)")
	secretID := fs.String("secret-id", os.Getenv("USERCENTER_SECRET_ID"), "API key SecretId")
	secretKey := fs.String("secret-key", os.Getenv("USERCENTER_SECRET_KEY"), "API key SecretKey")
	app := fs.Uint64("app", 0, "SdkAppId")
	action := fs.String("action", "RegisterUser", "RegisterUser or DescribeUser")
	concurrency := fs.Int("concurrency", 8, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "how long to run (at most 10m)")
	maxRequests := fs.Int64("requests", 1_000_000, "stop after this many requests")
	signMethod := fs.String("sign-method", "TC3-HMAC-SHA256", "TC3-HMAC-SHA256, HmacSHA256 or HmacSHA1")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*endpoint)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("the endpoint must be a loopback address")
	}
	if *app == 0 || *secretID == "" || *secretKey == "" {
		return errors.New("-app, -secret-id and -secret-key are required")
	}
	if *duration > 10*time.Minute || *concurrency < 1 || *concurrency > 1024 {
		return errors.New("-duration must be at most 10m and -concurrency between 1 and 1024")
	}

	newClient := func() *common.Client {
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint = *endpoint
		cpf.HttpProfile.Scheme = "HTTP"
		cpf.SignMethod = *signMethod
		return common.NewCommonClient(common.NewCredential(*secretID, *secretKey), "", cpf)
	}
	call := func(c *common.Client, action string, params map[string]any) ([]byte, error) {
		req := tchttp.NewCommonRequest("lcic", "2022-08-17", action)
		if err := req.SetActionParameters(params); err != nil {
			return nil, err
		}
		resp := tchttp.NewCommonResponse()
		err := c.Send(req, resp)
		return resp.GetBody(), err
	}

	// DescribeUser reads one user registered up front.
	var userID string
	if *action == "DescribeUser" {
		body, err := call(newClient(), "RegisterUser", map[string]any{"SdkAppId": *app, "Name": "ucload"})
		if err != nil {
			return err
		}
		userID = extract(body, "UserId")
	} else if *action != "RegisterUser" {
		return fmt.Errorf("unsupported -action %q", *action)
	}

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var sent, failed atomic.Int64
	errCodes := sync.Map{}
	latencies := make([][]time.Duration, *concurrency)
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			for time.Now().Before(deadline) {
				n := sent.Add(1)
				if n > *maxRequests {
					return
				}
				params := map[string]any{"UserId": userID}
				if *action == "RegisterUser" {
					params = map[string]any{"SdkAppId": *app, "Name": "ucload", "OriginId": run + "-" + strconv.FormatInt(n, 10)}
				}
				t0 := time.Now()
				_, err := call(c, *action, params)
				latencies[w] = append(latencies[w], time.Since(t0))
				if err != nil {
					failed.Add(1)
					code := err.Error()
					if e, ok := err.(*tcerr.TencentCloudSDKError); ok {
						code = e.GetCode()
					}
					v, _ := errCodes.LoadOrStore(code, new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return errors.New("no request completed")
	}
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	fmt.Printf("action=%s sign=%s concurrency=%d requests=%d failed=%d elapsed=%s\n", *action, *signMethod, *concurrency, len(all), failed.Load(), elapsed.Round(time.Millisecond))
	fmt.Printf("throughput=%.0f req/s  p50=%s p90=%s p99=%s max=%s\n", float64(len(all))/elapsed.Seconds(),
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	errCodes.Range(func(k, v any) bool {
		fmt.Printf("error %s: %d\n", k, v.(*atomic.Int64).Load())
		return true
	})
	return nil
}

// extract pulls a string field out of a {"Response":{…}} body.
func extract(body []byte, field string) string {
	var out struct {
		Response map[string]any
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return ""
	}
	s, _ := out.Response[field].(string)
	return s
}
