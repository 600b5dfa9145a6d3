package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const healthcheckLong = `Asks a running server for GET /healthz and exits 0 when it answers 200,
1 otherwise, saying why in one line. It is the health check of the
container image, which has no shell or curl to run one with. By default it
asks the server at --addr (USERCENTER_ADDR), as serve would listen on it,
on 127.0.0.1 when that address is every interface.
`

func healthcheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := newFlagSet("healthcheck", stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "the address the server listens on, as serve's --addr")
	url := fs.String("url", "", "the URL to ask instead (default http://ADDR/healthz)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	pos, err := parse(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{msg: fmt.Sprintf("healthcheck takes no arguments (got %q)", pos[0])}
	}
	if *timeout <= 0 {
		return usageError{msg: "--timeout must be positive"}
	}
	target := *url
	if target == "" {
		host, port, err := net.SplitHostPort(*addr)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--addr %q is not HOST:PORT", *addr)}
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		target = "http://" + net.JoinHostPort(host, port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usageError{msg: fmt.Sprintf("--url %q: %v", target, err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s", target, resp.Status)
	}
	fmt.Fprintf(stdout, "healthy: %s answered %s\n", target, resp.Status)
	return nil
}
