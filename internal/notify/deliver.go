package notify

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxDrain is how much of a response body is read so that the connection
// can be reused; the rest is discarded with the connection.
const maxDrain = 64 << 10

// outcome is the result of one attempt.
type outcome struct {
	status     int
	err        error
	retryAfter time.Duration
	permanent  bool
}

// attempt POSTs d once, following up to maxRedirects redirects.
func (w *Worker) attempt(ctx context.Context, d Delivery) outcome {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
	defer cancel()

	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return outcome{err: fmt.Errorf("%w: %q is not an absolute http(s) url", ErrRefused, d.URL), permanent: true}
	}
	var token string
	if w.cfg.Signer != nil {
		token, err = w.cfg.Signer.CallbackToken(d.AppID, d.TenantID)
		if err != nil {
			return outcome{err: fmt.Errorf("notify: sign callback: %w", err)}
		}
	}
	header := w.header(d, token)
	origin := u

	for hop := 0; ; hop++ {
		if w.cfg.CheckURL != nil {
			if err := w.cfg.CheckURL(u); err != nil {
				return outcome{err: fmt.Errorf("%w: %s: %w", ErrRefused, u.Redacted(), err), permanent: true}
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(d.Body))
		if err != nil {
			return outcome{err: fmt.Errorf("%w: %w", ErrRefused, err), permanent: true}
		}
		req.Header = header.Clone()
		if !sameOrigin(u, origin) {
			// The token is the bot's: a redirect to another origin gets
			// the notification but not the means to pose as us to the bot.
			req.Header.Del("Authorization")
		}
		resp, err := w.client.Do(req)
		if err != nil {
			return outcome{err: fmt.Errorf("notify: %w", err)}
		}
		status := resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()

		switch {
		case status >= 200 && status < 300:
			return outcome{status: status}
		case isRedirect(status):
			if hop == maxRedirects {
				return outcome{status: status, err: fmt.Errorf("%w: %d followed", ErrTooManyRedirects, maxRedirects)}
			}
			loc := resp.Header.Get("Location")
			next, err := u.Parse(loc)
			if loc == "" || err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
				return outcome{status: status, err: fmt.Errorf("notify: callback answered %d with bad Location %q", status, loc)}
			}
			if u.Scheme == "https" && next.Scheme == "http" && !w.cfg.AllowDowngrade {
				return outcome{status: status, err: fmt.Errorf("%w: %s redirects from https to http (%s)", ErrRefused, u.Redacted(), next.Redacted()), permanent: true}
			}
			u = next
		default:
			o := outcome{status: status, err: &StatusError{StatusCode: status}}
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), w.cfg.Clock.Now())
			}
			return o
		}
	}
}

// sameOrigin reports whether a and b have the same origin: scheme, host
// and port, a missing port being the scheme's default.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port returns u's port, or the default port of its scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// header builds the headers of one attempt; redirect hops repeat them.
func (w *Worker) header(d Delivery, token string) http.Header {
	h := make(http.Header, 12)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", w.cfg.UserAgent)
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	h.Set(HeaderSequence, strconv.FormatInt(d.Seq, 10))
	h.Set(HeaderCallID, d.CallID)
	h.Set(HeaderAttempt, strconv.Itoa(d.Attempts))
	if d.ChainID != "" {
		h.Set(HeaderChainID, d.ChainID)
	}
	if d.Replay {
		h.Set(HeaderReplay, "true")
	}
	h.Set(HeaderMessageID, newUUID())
	h.Set(HeaderScenarioID, newUUID())
	return h
}

// backoff returns the delay after failed attempt n (1-based): BaseBackoff
// doubled n-1 times, capped at MaxBackoff, drawn from its upper half; or the
// bot's Retry-After (capped at maxRetryAfter) when that is longer.
func (w *Worker) backoff(n int, retryAfter time.Duration) time.Duration {
	d := w.cfg.BaseBackoff
	for i := 1; i < n && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	return max(d, min(retryAfter, maxRetryAfter))
}

// parseRetryAfter reads a Retry-After value, either delay-seconds or an
// HTTP-date; anything else, or a time in the past, is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case secs <= 0:
			return 0
		case secs >= int64(maxRetryAfter/time.Second):
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// redact hides a password in a URL for logging.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	return u.Redacted()
}
