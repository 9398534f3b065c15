package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"safetynet/alerts"
	"safetynet/config"
	"safetynet/flight"
	"safetynet/forward"
	"safetynet/ingest"
	"safetynet/jobs"
	"safetynet/notify"
	"safetynet/remote"
	"safetynet/store"
	"safetynet/web"
)

func webMigrations() store.MigrationSet { return web.Migrations() }

func cmdServe(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	file := fs.String("config", "", "safetynet.yaml")
	addr := fs.String("addr", "", "listen address (default: web.addr in the config)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; default: web.tls_cert)")
	tlsKey := fs.String("tls-key", "", "…and this key (PEM; default: web.tls_key)")
	fs.Parse(args)
	chain, err := openChain(ctx, log, *file)
	if err != nil {
		return err
	}
	defer chain.DB.Close()
	if *addr == "" {
		*addr = chain.Cfg.Web.Addr
	}
	if *tlsCert != "" || *tlsKey != "" {
		if *tlsCert == "" || *tlsKey == "" {
			return fmt.Errorf("--tls-cert and --tls-key go together")
		}
		chain.Cfg.Web.TLSCert, chain.Cfg.Web.TLSKey = *tlsCert, *tlsKey
	}
	n, err := web.CountUsers(ctx, chain.DB)
	if err != nil {
		return err
	}
	if n == 0 {
		pw := web.RandomPassword()
		if err := web.CreateUser(ctx, chain.DB, web.NewUser{Name: "admin", Password: pw, Role: web.Admin, Replace: true}); err != nil {
			return err
		}
		log.Warn("no users yet: created the first administrator; change the password after logging in", "username", "admin", "password", pw)
	}
	return serve(ctx, log, chain, *addr, nil)
}

// collectors are every metric the server exports (docs/reference.md
// lists them, TestReference checks it).
func collectors(db *store.DB, staleAfter map[string]time.Duration) []prometheus.Collector {
	var cs []prometheus.Collector
	cs = append(cs, ingest.Collectors(db, staleAfter)...)
	cs = append(cs, alerts.Collectors(db)...)
	cs = append(cs, jobs.Collectors()...)
	cs = append(cs, notify.Collectors()...)
	cs = append(cs, forward.Collectors(db)...)
	cs = append(cs, web.Collectors()...)
	return cs
}

// serve runs the scheduler and the web server until ctx ends. ready, if
// set, is called once the listener is open.
func serve(ctx context.Context, log *slog.Logger, chain *jobs.Chain, addr string, ready func(url string)) error {
	reg := web.NewRegistry(collectors(chain.DB, chain.Cfg.StaleAfter())...)
	var proxies web.Proxies
	for _, p := range chain.Cfg.Web.TrustedProxies {
		pr, err := config.ParseProxy(p) // valid: the config was checked
		if err != nil {
			return err
		}
		proxies = append(proxies, pr)
	}
	srv := &web.Server{Proxies: proxies, DB: chain.DB, Pack: chain.Pack, Log: log, Registry: reg, Chain: chain, StaleAfter: chain.Cfg.StaleAfter(),
		PhotoDir: chain.Cfg.PhotoDir(), Instance: chain.Cfg.Instance, PseudonymKey: os.Getenv(chain.Cfg.Analytics.PseudonymKeyEnv),
		HubOf: chain.Cfg.HubOf(), Analytics: web.AnalyticsConfig{Dir: chain.Cfg.Analytics.Dir, SmallCell: chain.Cfg.Analytics.SmallCell}}
	h, err := srv.Handler()
	if err != nil {
		return err
	}
	defer srv.Close() // last, once the HTTP server has shut down
	chain.Published = func(string) { go srv.WarmCohorts(ctx) }
	cr, err := chain.Schedule(ctx)
	if err != nil {
		return err
	}
	defer func() { <-cr.Stop().Done() }()
	if fa := chain.Cfg.Analytics.Flight; fa != "" {
		fs := &flight.Server{DB: chain.DB, Dir: chain.Cfg.Analytics.Dir, Log: log}
		go func() {
			err := fs.Serve(ctx, fa, func(a net.Addr) { log.Info("serving Arrow Flight SQL", "addr", a.String()) })
			if err != nil {
				log.Error("Flight SQL stopped", "err", err)
			}
		}()
	}
	admin, err := remote.Listen(chain.Cfg.AdminSocket())
	if err != nil {
		return err
	}
	// Commands in flight finish before the database closes.
	actx, stopAdmin := context.WithCancel(ctx)
	adminDone := make(chan struct{})
	go func() {
		defer close(adminDone)
		err := remote.Serve(actx, admin, func(ctx context.Context, req remote.Request, out, errOut io.Writer) error {
			return answer(ctx, log, chain, req, out, errOut)
		})
		if err != nil {
			log.Error("admin socket stopped", "err", err)
		}
	}()
	defer func() { stopAdmin(); <-adminDone }()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another safetynet running? pass --addr to use another port)", addr, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	cert, key := chain.Cfg.Web.TLSCert, chain.Cfg.Web.TLSKey
	scheme := "http"
	if cert != "" {
		// Load once here, so that a wrong file stops serve with its name.
		if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
			ln.Close()
			return fmt.Errorf("TLS: %s and %s: %w", cert, key, err)
		}
		scheme = "https"
	}
	url := scheme + "://" + displayAddr(ln.Addr().String())
	log.Info("serving", "url", url, "metrics", url+"/metrics")
	if ready != nil {
		ready(url)
	}
	errc := make(chan error, 1)
	go func() {
		if cert != "" {
			errc <- hs.ServeTLS(ln, cert, key)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
