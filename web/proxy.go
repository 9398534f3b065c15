package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies in front of the server. Only a request
// that comes from one of them is believed about the client's address
// (X-Forwarded-For) and scheme (X-Forwarded-Proto); from anyone else the
// headers are dropped, so that a client cannot pass for another address
// (and slip the login throttle) or for HTTPS.
type Proxies []netip.Prefix

type httpsKey struct{}

// behind rewrites a request as the client sent it to the proxy.
func (p Proxies) behind(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fwdFor, fwdProto := r.Header.Values("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto")
		r.Header.Del("X-Forwarded-For")
		r.Header.Del("X-Forwarded-Proto")
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !p.trusts(peer) {
			h.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		if client, ok := p.client(fwdFor); ok {
			r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		if strings.EqualFold(strings.TrimSpace(fwdProto), "https") {
			r2 = r2.WithContext(context.WithValue(r2.Context(), httpsKey{}, true))
		}
		h.ServeHTTP(w, r2)
	})
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// client is the right-most address of X-Forwarded-For that is not a
// trusted proxy: the left ones are whatever the client chose to send.
func (p Proxies) client(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !p.trusts(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func addrOf(hostport string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		a, err := netip.ParseAddr(hostport)
		return a.Unmap(), err == nil
	}
	return ap.Addr().Unmap(), true
}

// isHTTPS says whether the client's connection is encrypted: to this
// server, or to a trusted proxy that says so.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Context().Value(httpsKey{}) == true
}

// setCookie sets c, Secure whenever the client came over HTTPS, so that a
// session cookie never travels in the clear after that.
func setCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.Secure = isHTTPS(r)
	http.SetCookie(w, c)
}
