package alerts

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"safetynet/store"
)

// Photo is a photo taken on a visit.
type Photo struct {
	ID, TaskID, AlertID int64
	SHA256              string
	Bytes               int64
	ContentType         string
	By                  string
	At                  time.Time
}

// Photo limits: a phone's photo fits; a video or a disk image does not.
const (
	MaxPhotoBytes = 8 << 20
	MaxPhotos     = 5
)

// Refusals of a photo.
var (
	ErrPhotoTooLarge = errors.New("a photo is larger than 8 MB")
	ErrNotPhoto      = errors.New("not a JPEG, PNG or WebP photo")
	ErrTooManyPhotos = errors.New("more than 5 photos")
)

// photoTypes are what a photo may be, by its first bytes (not its name).
var photoTypes = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

// CheckPhoto says what a photo's bytes are, or why they are refused.
func CheckPhoto(b []byte) (contentType string, err error) {
	if len(b) > MaxPhotoBytes {
		return "", ErrPhotoTooLarge
	}
	ct := http.DetectContentType(b)
	if _, ok := photoTypes[ct]; !ok {
		return "", ErrNotPhoto
	}
	return ct, nil
}

// AddPhoto keeps a visit's photo in dir under its SHA-256 (the same photo
// twice is one file) and records it with the task; the file is written
// before the row, so a row never names a missing file.
func AddPhoto(ctx context.Context, db *store.DB, dir string, t *Task, b []byte, by string, now time.Time) (*Photo, error) {
	ct, err := CheckPhoto(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	p := &Photo{TaskID: t.TaskID, AlertID: t.AlertID, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(b)), ContentType: ct, By: by, At: now}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("alerts: photos: %w", err)
	}
	path := filepath.Join(dir, p.SHA256+photoTypes[ct])
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		tmp := path + ".part"
		if err := os.WriteFile(tmp, b, 0o640); err != nil {
			return nil, fmt.Errorf("alerts: photo: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("alerts: photo: %w", err)
		}
	}
	err = db.QueryRowContext(ctx, `INSERT INTO visit_photos (photo_id, task_id, alert_id, sha256, bytes, content_type, uploaded_by, uploaded_at)
		VALUES (nextval('photo_seq'), ?, ?, ?, ?, ?, ?, ?) RETURNING photo_id`, p.TaskID, p.AlertID, p.SHA256, p.Bytes, p.ContentType, p.By, p.At).Scan(&p.ID)
	if err != nil {
		return nil, fmt.Errorf("alerts: photo: %w", err)
	}
	return p, nil
}

// Photos lists an alert's visit photos, oldest first.
func Photos(ctx context.Context, db *store.DB, alertID int64) ([]Photo, error) {
	return queryPhotos(ctx, db, `WHERE alert_id = ? ORDER BY photo_id`, alertID)
}

// GetPhoto returns one photo, or sql.ErrNoRows.
func GetPhoto(ctx context.Context, db *store.DB, id int64) (*Photo, error) {
	ps, err := queryPhotos(ctx, db, `WHERE photo_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, sql.ErrNoRows
	}
	return &ps[0], nil
}

// PhotoPath is where a photo's file is in dir.
func PhotoPath(dir string, p *Photo) string {
	return filepath.Join(dir, p.SHA256+photoTypes[p.ContentType])
}

func queryPhotos(ctx context.Context, db *store.DB, where string, args ...any) ([]Photo, error) {
	rows, err := db.QueryContext(ctx, `SELECT photo_id, task_id, alert_id, sha256, bytes, content_type, uploaded_by, uploaded_at FROM visit_photos `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: photos: %w", err)
	}
	defer rows.Close()
	var out []Photo
	for rows.Next() {
		var p Photo
		if err := rows.Scan(&p.ID, &p.TaskID, &p.AlertID, &p.SHA256, &p.Bytes, &p.ContentType, &p.By, &p.At); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
