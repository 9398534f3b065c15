package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"safetynet/alerts"
)

// pngPhoto is a small real PNG.
func pngPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		img.Set(x, x%30, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestVisitPhotos: photos taken on the visit go with the outcome, are
// kept beside the database under their hash, shown to the operator of
// the region (audited) and to nobody outside it; a file that is not a
// photo, or too large, sends the form back with nothing recorded.
func TestVisitPhotos(t *testing.T) {
	s := newSite(t)
	task := dispatchedTask(t, s)
	gw := s.login(t, "gw")
	_, card := get(t, gw, s.srv.URL+"/tasks/"+itoa(task.TaskID))
	token := csrf(t, card)
	send := func(files map[string][]byte) int {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("csrf", token)
		mw.WriteField("outcome", "assisted_application")
		mw.WriteField("note", "拍了门牌和申请表")
		for name, b := range files {
			fw, _ := mw.CreateFormFile("photo", name)
			fw.Write(b)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", s.srv.URL+"/tasks/"+itoa(task.TaskID)+"/outcome", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := gw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(map[string][]byte{"script.jpg": []byte("<script>alert(1)</script>")}); code != http.StatusUnsupportedMediaType {
		t.Errorf("a text file named .jpg: %d", code)
	}
	if code := send(map[string][]byte{"huge.jpg": append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, alerts.MaxPhotoBytes+10)...)}); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 8 MB+ photo: %d", code)
	}
	if got, _ := alerts.GetTask(t.Context(), s.chain.DB, task.TaskID); got.Status != "open" {
		t.Fatalf("a refused form recorded the visit: %s", got.Status)
	}
	photo := pngPhoto(t)
	if code := send(map[string][]byte{"door.png": photo}); code != http.StatusSeeOther {
		t.Fatalf("the outcome with a photo: %d", code)
	}
	sum := sha256.Sum256(photo)
	file := filepath.Join(s.server.PhotoDir, hex.EncodeToString(sum[:])+".png")
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, photo) {
		t.Fatalf("the photo beside the database: %v", err)
	}
	op := s.login(t, "op-yuhang")
	_, page := get(t, op, s.srv.URL+"/alerts/"+itoa(task.AlertID))
	m := regexp.MustCompile(`<img src="/photos/([0-9]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the alert page shows no photo")
	}
	resp, err := op.Get(s.srv.URL + "/photos/" + m[1])
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got.Bytes(), photo) {
		t.Errorf("the photo: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), got.Len())
	}
	if code, _ := get(t, s.login(t, "op-elsewhere"), s.srv.URL+"/photos/"+m[1]); code != http.StatusNotFound {
		t.Errorf("another region's operator: %d", code)
	}
	if code, _ := get(t, s.login(t, "gw-other"), s.srv.URL+"/photos/"+m[1]); code != http.StatusNotFound {
		t.Errorf("another grid's worker: %d", code)
	}
	var views, uploads int
	s.chain.DB.QueryRow(`SELECT count(*) FILTER (action = 'view_photo'), count(*) FILTER (action = 'task_photo') FROM audit_log`).Scan(&views, &uploads)
	if views != 1 || uploads != 1 {
		t.Errorf("audit: %d views, %d uploads", views, uploads)
	}
	if id, _ := strconv.Atoi(m[1]); id == 0 || !strings.Contains(page, "走访照片") {
		t.Error("the photos' heading")
	}
}
