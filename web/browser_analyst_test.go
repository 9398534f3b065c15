package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestBrowserAnalystFlow: in headless Chromium an aggregates-only analyst
// lands on the funnel (ECharts draws it as SVG), builds a cohort in the
// form picking a township by name, drills from county to township to
// village by clicks, sees the series chart, and downloads the counts.
func TestBrowserAnalystFlow(t *testing.T) {
	ctx := browser(t)
	s := newSite(t)
	out := artifacts(t)
	var landing, cohortPNG, villagePNG []byte
	var funnelSVG, seriesSVG, regionsSVG int
	var madeBy, crumbs, township string
	var exportStatus, villageLinks, villageRows int
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.srv.URL+"/login"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`input[name=username]`, "analyst"),
		chromedp.SendKeys(`input[name=password]`, "password-analyst"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`#chart-funnel[data-rendered="true"] svg`),
		chromedp.Evaluate(`document.querySelectorAll('#chart-funnel svg path').length`, &funnelSVG),
		chromedp.FullScreenshot(&landing, 100),
		chromedp.Click(`#new-cohort`),
		chromedp.WaitVisible(`#cohort-form`),
		chromedp.SendKeys(`input[name=name]`, "低保特困人员"),
		chromedp.Click(`input[name=tier][value=dibao]`),
		chromedp.Click(`input[name=tier][value=tekun]`),
		// The county, by its name in the region tree.
		chromedp.Evaluate(`(() => { const s = document.getElementById('region'); const o = [...s.options].find(o => o.text.includes('余杭区')); s.value = o.value; return o.value })()`, &township),
		chromedp.Click(`#save-cohort`),
		chromedp.WaitVisible(`#chart-series[data-rendered="true"] svg`),
		chromedp.Text(`#made-by`, &madeBy),
		chromedp.Evaluate(`document.querySelectorAll('#chart-series svg path').length`, &seriesSVG),
		chromedp.FullScreenshot(&cohortPNG, 100),
		// The cohort opens at its county, by township: drill into one, to its villages.
		chromedp.Evaluate(`document.body.dataset.before = "county"`, nil),
		chromedp.Click(`#regions a.drill`),
		chromedp.WaitVisible(`body:not([data-before]) #chart-regions[data-rendered="true"] svg`),
		chromedp.Evaluate(`document.querySelectorAll('#regions a.drill').length`, &villageLinks),
		chromedp.Evaluate(`document.querySelectorAll('#regions tbody tr').length`, &villageRows),
		chromedp.Text(`#crumbs`, &crumbs),
		chromedp.Evaluate(`document.querySelectorAll('#chart-regions svg path').length`, &regionsSVG),
		chromedp.FullScreenshot(&villagePNG, 100),
		chromedp.Evaluate(`fetch(document.getElementById('export-regions-xlsx').href).then(r => r.status)`, &exportStatus, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	for name, png := range map[string][]byte{"analyst-landing.png": landing, "analyst-cohort.png": cohortPNG, "analyst-village.png": villagePNG} {
		os.WriteFile(filepath.Join(out, name), png, 0o644)
	}
	if funnelSVG == 0 || seriesSVG == 0 || regionsSVG == 0 {
		t.Errorf("charts drawn: funnel %d, series %d, regions %d SVG paths", funnelSVG, seriesSVG, regionsSVG)
	}
	if township != "330110" || !strings.Contains(madeBy, "v1") {
		t.Errorf("picked %q; made by %q", township, madeBy)
	}
	if !strings.Contains(crumbs, "余杭区 ›") || !(strings.HasSuffix(strings.TrimSpace(crumbs), "街道") || strings.HasSuffix(strings.TrimSpace(crumbs), "镇")) {
		t.Errorf("after drilling into a township the trail is %q", crumbs)
	}
	if villageLinks != 0 || villageRows < 2 {
		t.Errorf("the township's villages: %d rows, %d of them links (villages are the last level)", villageRows, villageLinks)
	}
	if exportStatus != 200 {
		t.Errorf("export: %d", exportStatus)
	}
}
