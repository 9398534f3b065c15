package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's headless browser; `make test` installs it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; `make test` installs it")
	}
	t.Skip("chromium not installed (make test installs it)")
	return ""
}

// artifacts is where screenshots go: $ARTIFACTS, or a temporary folder.
func artifacts(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	return dir
}

// TestBrowserOperatorFlow logs in through the real page in headless
// Chromium, filters the inbox, opens an alert, dispatches it, and looks at
// the inbox on a phone-sized screen.
func TestBrowserOperatorFlow(t *testing.T) {
	exe := chromium(t)
	s := newSite(t)
	out := artifacts(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var loginURL, shown, reason, title, status string
	var inboxPNG, alertPNG, dispatchedPNG, phonePNG []byte
	var rows int
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.srv.URL+"/alerts"),
		chromedp.WaitVisible(`#login`),
		chromedp.Location(&loginURL),
		chromedp.SendKeys(`input[name=username]`, "admin"),
		chromedp.SendKeys(`input[name=password]`, "password-admin"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`table.alerts`),
		chromedp.Title(&title),
		chromedp.SetValue(`select[name=rule]`, "temporary_assistance"),
		// Mark this page so that the wait below can only match the next one.
		chromedp.Evaluate(`document.body.dataset.before = "filter"`, nil),
		chromedp.Click(`#filter`),
		chromedp.WaitVisible(`body:not([data-before]) tr[data-rule="temporary_assistance"]`),
		chromedp.Text(`#shown`, &shown),
		chromedp.Evaluate(`document.querySelectorAll('tr[data-rule]').length`, &rows),
		chromedp.FullScreenshot(&inboxPNG, 100),
		chromedp.Click(`table.alerts tbody tr a`),
		chromedp.WaitVisible(`#reason`),
		chromedp.Text(`#reason`, &reason),
		chromedp.FullScreenshot(&alertPNG, 100),
		// Dispatch it: the page comes back with the alert dispatched and the history.
		chromedp.Evaluate(`document.body.dataset.before = "dispatch"`, nil),
		chromedp.Click(`#act-dispatch`),
		chromedp.WaitVisible(`body:not([data-before]) table.history`),
		chromedp.Text(`#status`, &status),
		chromedp.FullScreenshot(&dispatchedPNG, 100),
		chromedp.EmulateViewport(375, 812),
		chromedp.Navigate(s.srv.URL+"/alerts"),
		chromedp.WaitVisible(`table.alerts`),
		chromedp.FullScreenshot(&phonePNG, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loginURL, "/login") {
		t.Errorf("not sent to the login page: %s", loginURL)
	}
	want := 0
	for _, e := range s.county.Expected {
		if e.RuleID == "temporary_assistance" {
			want++
		}
	}
	if rows != want || strings.TrimSpace(shown) != itoa(int64(want)) {
		t.Errorf("filtered inbox shows %d rows (counter %q), want %d", rows, shown, want)
	}
	if !strings.Contains(reason, "临时救助") {
		t.Errorf("alert page reason: %q", reason)
	}
	if status != "已派单" {
		t.Errorf("after dispatching, the status reads %q", status)
	}
	for name, png := range map[string][]byte{"inbox.png": inboxPNG, "alert.png": alertPNG, "alert-dispatched.png": dispatchedPNG, "inbox-375px.png": phonePNG} {
		if len(png) < 1000 {
			t.Errorf("%s: empty screenshot", name)
		}
		os.WriteFile(filepath.Join(out, name), png, 0o644)
	}
	t.Logf("screenshots in %s (%s)", out, title)
}
