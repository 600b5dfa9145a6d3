package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"syscall"

	"usercenter"
)

// errForbiddenAddress is a dial refused by the address policy.
var errForbiddenAddress = errors.New("webhook: the address is loopback, link-local or private")

// Allowed reports whether deliveries may reach ip: not loopback,
// link-local, private (RFC 1918, RFC 4193), carrier-grade NAT, "this
// network" (0.0.0.0/8), broadcast or multicast, unless allowPrivate.
func Allowed(ip netip.Addr, allowPrivate bool) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	if allowPrivate {
		return true
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// refusedPrefixes are ranges the netip predicates leave out: carrier-grade
// NAT, "this network" (0.0.0.0/8, which Linux routes to the host itself)
// and the broadcast address.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("255.255.255.255/32"),
}

// control is the dialer's Control hook: it sees the address each
// connection is about to reach, after any DNS resolution, so that a name
// that resolves to a public address when checked and a private one when
// dialled (DNS rebinding) is still refused.
func control(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return errForbiddenAddress
		}
		if !Allowed(ap.Addr(), allowPrivate) {
			return errForbiddenAddress
		}
		return nil
	}
}

// Resolver looks up a host's addresses; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// checkURL resolves u's host and refuses it, as an invalid webhookUrl, if
// any of its addresses is one deliveries may not reach.
func checkURL(ctx context.Context, r Resolver, u *url.URL, allowPrivate bool) error {
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
			return usercenter.Invalid(usercenter.FieldWebhookURL, "names a host that does not resolve")
		}
	}
	for _, ip := range addrs {
		if !Allowed(ip, allowPrivate) {
			return usercenter.Invalid(usercenter.FieldWebhookURL, "leads to a loopback, link-local or private address, which deliveries may not reach (serve --webhook-allow-private allows them)")
		}
	}
	return nil
}

// newDialer returns a dialer that refuses what Allowed refuses.
func newDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{Control: control(allowPrivate)}
}
