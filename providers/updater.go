package providers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/xmpp-onboard/onboard/internal/sanitize"
)

// DefaultURL is the list an Updater fetches by default: the filtered list B
// of API v2, which holds the providers of categories A and B, those a client
// may offer for sign-up.
const DefaultURL = "https://data.xmpp.net/providers/v2/providers-B.json"

// Origin tells where the list returned by an Updater came from.
type Origin int

// The sources of an Update, freshest first.
const (
	// OriginNetwork: downloaded now.
	OriginNetwork Origin = iota + 1
	// OriginRevalidated: the cached copy, confirmed unchanged by the server
	// (304 Not Modified).
	OriginRevalidated
	// OriginCache: the cached copy, used without asking the server because it
	// is younger than MaxAge, or because the download failed.
	OriginCache
	// OriginEmbedded: the snapshot compiled into the program.
	OriginEmbedded
)

// String names the origin.
func (o Origin) String() string {
	switch o {
	case OriginNetwork:
		return "network"
	case OriginRevalidated:
		return "cache (revalidated)"
	case OriginCache:
		return "cache"
	case OriginEmbedded:
		return "embedded"
	}
	return "unknown"
}

// Errors of an Update; match them with errors.Is.
var (
	// ErrHTTPStatus is matched by the error of an Update whose download
	// got an unexpected HTTP status.
	ErrHTTPStatus = errors.New("providers: unexpected HTTP status")
	// ErrNotHTTPS is matched by the error of an Update whose URL, or a
	// redirect it got, is not an https URL. The list decides which
	// servers an app offers for sign-up, so it is fetched over https only:
	// nothing is downloaded from an http:// URL, and neither the cache
	// nor a download is used (the embedded snapshot is).
	ErrNotHTTPS = errors.New("providers: not an https URL")
	// ErrUntrustedCache is matched by the error of an Update whose cache
	// directory or files another user could have written: a directory
	// not owned by the current user, or writable by its group or by
	// everyone without the sticky bit; a cache file that is a symbolic
	// link, not a regular file, not owned by the current user, or
	// writable by others. Such a cache is neither read nor written.
	ErrUntrustedCache = errors.New("providers: cache not trusted")
)

// StatusError reports an unexpected HTTP status from the list server.
type StatusError struct {
	URL        string
	StatusCode int
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("providers: GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// Is makes errors.Is(err, ErrHTTPStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrHTTPStatus }

// Updater refreshes a provider list over HTTPS. Its zero value fetches
// DefaultURL with a 30-second timeout, keeps no cache and falls back to the
// embedded snapshot.
type Updater struct {
	// URL of the list; empty means DefaultURL. Any published shape works.
	// It must be an https URL (ErrNotHTTPS otherwise).
	URL string
	// Client performs the request; nil means a client with a 30 s timeout.
	// The request also honours the context given to Update. Update uses a
	// copy of it whose CheckRedirect refuses a redirect to anything but
	// https (ErrNotHTTPS) before calling Client's own CheckRedirect.
	Client *http.Client
	// CacheDir, if set, holds the last good download and its validators
	// (ETag, Last-Modified). It is created (mode 0700) if missing. It is
	// used only if the current user owns it and no one else can write to
	// it (see ErrUntrustedCache).
	CacheDir string
	// MaxAge lets Update use the cached copy without contacting the server
	// while it is younger than this. Zero means always revalidate.
	MaxAge time.Duration
	// MaxBytes caps the download; 0 means DefaultMaxBytes.
	MaxBytes int64
	// UserAgent is sent with the request. Programs should set it so the
	// list's operators can tell clients apart.
	UserAgent string
}

// Update is the result of Updater.Update.
type Update struct {
	// List is the freshest list that could be had; never empty unless the
	// source itself is empty.
	List List
	// Origin says where List came from.
	Origin Origin
	// Fetched is when List was downloaded (zero for the embedded snapshot).
	Fetched time.Time
	// Err, if not nil, explains why a fresher source was not used (the
	// download or cache error), or, with OriginNetwork, why the download
	// could not be cached. It is informational: List is still usable.
	Err error
}

type cacheMeta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Fetched      time.Time `json:"fetched"`
}

func (u *Updater) url() string {
	if u.URL != "" {
		return u.URL
	}
	return DefaultURL
}

func (u *Updater) cachePaths() (data, meta string) {
	sum := sha256.Sum256([]byte(u.url()))
	name := path.Base(u.url())
	if name == "" || name == "/" || name == "." {
		name = "list.json"
	}
	base := filepath.Join(u.CacheDir, hex.EncodeToString(sum[:6])+"-"+filepath.Base(name))
	return base, base + ".meta"
}

// readCache returns the cached list and its metadata; ok is false if there
// is no usable cache.
func (u *Updater) readCache() (List, cacheMeta, error) {
	var meta cacheMeta
	if u.CacheDir == "" {
		return List{}, meta, errors.New("no cache directory")
	}
	if err := trustedDir(u.CacheDir); err != nil {
		return List{}, meta, err
	}
	dataPath, metaPath := u.cachePaths()
	mf, err := openTrusted(metaPath)
	if err != nil {
		return List{}, meta, err
	}
	mb, err := io.ReadAll(io.LimitReader(mf, 1<<16))
	mf.Close()
	if err != nil {
		return List{}, meta, err
	}
	if err := json.Unmarshal(mb, &meta); err != nil {
		return List{}, meta, fmt.Errorf("providers: cache metadata %s: %w", metaPath, err)
	}
	f, err := openTrusted(dataPath)
	if err != nil {
		return List{}, meta, err
	}
	defer f.Close()
	d := Decoder{MaxBytes: u.MaxBytes}
	l, err := d.Decode(f)
	if err != nil {
		return List{}, meta, fmt.Errorf("providers: cache %s: %w", dataPath, err)
	}
	return l, meta, nil
}

func (u *Updater) writeCache(data []byte, meta cacheMeta) error {
	if u.CacheDir == "" {
		return nil
	}
	if err := os.MkdirAll(u.CacheDir, 0o700); err != nil {
		return err
	}
	if err := trustedDir(u.CacheDir); err != nil {
		return err
	}
	dataPath, metaPath := u.cachePaths()
	mb, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	// Write the data first and the metadata last, each atomically, so that
	// a crash leaves either the old pair or a new list with old validators
	// (which only costs one full download).
	if err := writeAtomic(dataPath, data); err != nil {
		return err
	}
	return writeAtomic(metaPath, mb)
}

func writeAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Update returns the freshest list it can get: a download (revalidating the
// cached copy with If-None-Match and If-Modified-Since), else the cached copy,
// else the embedded snapshot. It never fails: Update.Err tells why a fresher
// source was not used. A download that does not decode is not cached. A URL
// that is not https gives the embedded snapshot and ErrNotHTTPS; a cache
// that is not trusted is ignored (ErrUntrustedCache in Update.Err).
func (u *Updater) Update(ctx context.Context) Update {
	if err := checkHTTPS(u.url()); err != nil {
		return Update{List: Embedded(), Origin: OriginEmbedded, Err: err}
	}
	cached, meta, cacheErr := u.readCache()
	haveCache := cacheErr == nil && meta.URL == u.url()
	if haveCache && u.MaxAge > 0 && time.Since(meta.Fetched) < u.MaxAge {
		return Update{List: cached, Origin: OriginCache, Fetched: meta.Fetched}
	}
	var vmeta *cacheMeta
	if haveCache {
		vmeta = &meta
	}
	l, newMeta, notModified, err := u.fetch(ctx, vmeta)
	switch {
	case err == nil && notModified:
		meta.Fetched = newMeta.Fetched
		if newMeta.ETag != "" {
			meta.ETag = newMeta.ETag
		}
		if newMeta.LastModified != "" {
			meta.LastModified = newMeta.LastModified
		}
		if mb, merr := json.Marshal(meta); merr == nil {
			_, metaPath := u.cachePaths()
			writeAtomic(metaPath, mb) // best effort: only the revalidation time is lost
		}
		return Update{List: cached, Origin: OriginRevalidated, Fetched: meta.Fetched}
	case err == nil && errors.Is(cacheErr, ErrUntrustedCache):
		return Update{List: l, Origin: OriginNetwork, Fetched: newMeta.Fetched, Err: cacheErr}
	case err == nil:
		return Update{List: l, Origin: OriginNetwork, Fetched: newMeta.Fetched}
	case errors.As(err, new(*cacheWriteError)):
		return Update{List: l, Origin: OriginNetwork, Fetched: newMeta.Fetched, Err: err}
	case haveCache:
		return Update{List: cached, Origin: OriginCache, Fetched: meta.Fetched, Err: err}
	}
	if u.CacheDir != "" && cacheErr != nil && !errors.Is(cacheErr, os.ErrNotExist) {
		err = errors.Join(err, cacheErr)
	}
	return Update{List: Embedded(), Origin: OriginEmbedded, Err: err}
}

func (u *Updater) fetch(ctx context.Context, meta *cacheMeta) (l List, m cacheMeta, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url(), nil)
	if err != nil {
		return l, m, false, fmt.Errorf("providers: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if u.UserAgent != "" {
		req.Header.Set("User-Agent", u.UserAgent)
	}
	if meta != nil {
		if meta.ETag != "" {
			req.Header.Set("If-None-Match", meta.ETag)
		}
		if meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", meta.LastModified)
		}
	}
	var client http.Client
	if u.Client != nil {
		client = *u.Client
	} else {
		client.Timeout = 30 * time.Second
	}
	next := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkHTTPS(req.URL.String()); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return l, m, false, fmt.Errorf("providers: %w", err)
	}
	defer resp.Body.Close()
	m = cacheMeta{URL: u.url(), ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Fetched: time.Now().UTC()}
	switch {
	case resp.StatusCode == http.StatusNotModified && meta != nil:
		return l, m, true, nil
	case resp.StatusCode != http.StatusOK:
		return l, m, false, &StatusError{URL: u.url(), StatusCode: resp.StatusCode}
	}
	max := u.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return l, m, false, fmt.Errorf("providers: GET %s: %w", u.url(), err)
	}
	if int64(len(body)) > max {
		return l, m, false, &DecodeError{Index: -1, Offset: max, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	}
	d := Decoder{MaxBytes: max}
	l, err = d.Decode(bytes.NewReader(body))
	if err != nil {
		return l, m, false, err
	}
	if err := u.writeCache(body, m); err != nil {
		// The list is good; only the cache failed. Use the list, report it.
		return l, m, false, &cacheWriteError{err}
	}
	return l, m, false, nil
}

// checkHTTPS returns an error matching ErrNotHTTPS unless s is an absolute
// https URL with a host.
func checkHTTPS(s string) error {
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" {
		return fmt.Errorf("%w: %q", ErrNotHTTPS, sanitize.Line(s))
	}
	return nil
}

// trustedDir returns an error matching ErrUntrustedCache unless dir is a
// directory owned by the current user that nobody else may write to: not
// writable by group or others, unless the sticky bit is set (then others
// cannot replace the files, and openTrusted refuses the ones they made).
func trustedDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is not a directory", ErrUntrustedCache, dir)
	case !ownedByMe(fi):
		return fmt.Errorf("%w: %s is not owned by the current user", ErrUntrustedCache, dir)
	case fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0:
		return fmt.Errorf("%w: %s is writable by other users (mode %v)", ErrUntrustedCache, dir, fi.Mode().Perm())
	}
	return nil
}

// openTrusted opens a cache file that must be a regular file (not a
// symbolic link) owned by the current user and writable by nobody else.
func openTrusted(name string) (*os.File, error) {
	li, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	switch {
	case li.Mode()&os.ModeSymlink != 0:
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrUntrustedCache, name)
	case !li.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrUntrustedCache, name)
	case !ownedByMe(li):
		return nil, fmt.Errorf("%w: %s is not owned by the current user", ErrUntrustedCache, name)
	case li.Mode().Perm()&0o022 != 0:
		return nil, fmt.Errorf("%w: %s is writable by other users (mode %v)", ErrUntrustedCache, name, li.Mode().Perm())
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	// The file opened must be the one checked (not swapped in between).
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, li) {
		f.Close()
		return nil, fmt.Errorf("%w: %s changed while it was opened", ErrUntrustedCache, name)
	}
	return f, nil
}

type cacheWriteError struct{ err error }

func (e *cacheWriteError) Error() string { return "providers: writing the cache: " + e.err.Error() }
func (e *cacheWriteError) Unwrap() error { return e.err }
