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

	"safetynet/alerts"
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
	ctx := browser(t)
	s := newSite(t)
	out := artifacts(t)

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
		chromedp.Text(`#total`, &shown),
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

// browser starts headless Debian chromium for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	profile, err := os.MkdirTemp("", "safetynet-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
		// Chromium's start is slow on a loaded 2-core machine; the default
		// 20 s failed once beside a benchmark.
		chromedp.WSURLReadTimeout(2*time.Minute))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	// A hung browser fails the test instead of the suite's deadline; the
	// longest flow (every role) takes about 50 s on a busy 2-core machine.
	ctx, cancelTimeout := context.WithTimeout(bctx, 4*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(profile) // chromium may still be writing its profile: best effort
	})
	return ctx
}

// TestBrowserGridWorker: on a 375 px phone screen a grid worker logs in,
// sees the visit task, opens the household card and records the outcome;
// the alert has moved on when the operator looks.
func TestBrowserGridWorker(t *testing.T) {
	ctx := browser(t)
	s := newSite(t)
	out := artifacts(t)
	task := dispatchedTask(t, s)
	id := itoa(task.TaskID)
	var tasksPNG, cardPNG, donePNG []byte
	var width int
	err := chromedp.Run(ctx,
		chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		chromedp.Navigate(s.srv.URL+"/"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`input[name=username]`, "gw"),
		chromedp.SendKeys(`input[name=password]`, "password-gw"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`#task-`+id),
		chromedp.FullScreenshot(&tasksPNG, 100),
		chromedp.Click(`#task-`+id),
		chromedp.WaitVisible(`#why`),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, &width),
		chromedp.FullScreenshot(&cardPNG, 100),
		chromedp.Click(`#o-assisted_application`),
		chromedp.SendKeys(`#note`, "已协助提交临时救助申请"),
		chromedp.Click(`#save-outcome`),
		chromedp.WaitVisible(`#flash`),
		chromedp.FullScreenshot(&donePNG, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if width > 375 {
		t.Errorf("the task card is %d px wide on a 375 px screen", width)
	}
	a, err := alerts.Get(context.Background(), s.chain.DB, task.AlertID)
	if err != nil || a.Status != alerts.StatusVisited {
		t.Errorf("after the outcome the alert is %v (%v)", a, err)
	}
	hist, _ := alerts.History(context.Background(), s.chain.DB, task.AlertID)
	if last := hist[len(hist)-1]; last.Actor != "gw" || last.Event != alerts.EventVisited || last.Args[0] != "assisted_application" {
		t.Errorf("history: %+v", last)
	}
	// The operator sees the alert moved on.
	op := s.login(t, "admin")
	if _, page := get(t, op, s.srv.URL+"/alerts/"+itoa(task.AlertID)); !strings.Contains(page, "已走访") {
		t.Error("the operator does not see the alert visited")
	}
	for name, png := range map[string][]byte{"tasks-375px.png": tasksPNG, "task-card-375px.png": cardPNG, "task-done-375px.png": donePNG} {
		if len(png) < 1000 {
			t.Errorf("%s: empty screenshot", name)
		}
		os.WriteFile(filepath.Join(out, name), png, 0o644)
	}
}
