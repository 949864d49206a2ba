package live

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

// UserTopic is the topic of one staff member (their inbox and bell).
func UserTopic(staffID int64) string { return "user:" + strconv.FormatInt(staffID, 10) }

// NodeTopic is the topic of an org subtree (a site's board).
func NodeTopic(path string) string { return "node:" + path }

// TopicRule decides whether a caller may follow the topics of one kind
// ("case:17"); rest is what follows the colon.
type TopicRule func(ctx context.Context, p *auth.Principal, rest string) bool

// HTTP serves the event stream.
type HTTP struct {
	Hub *Hub
	// Rules are the topic kinds modules own, by kind ("case"): the module
	// decides who may follow one of its records.
	Rules map[string]TopicRule
	// Heartbeat keeps proxies from closing an idle stream.
	Heartbeat time.Duration
	// MaxAge ends a stream so clients reconnect (and re-authenticate).
	MaxAge time.Duration
}

// Routes lists the stream endpoint.
func (h *HTTP) Routes() []web.Route {
	return []web.Route{{Method: "GET", Path: "/events", Handler: h.stream}}
}

// allowed decides whether the caller may follow a topic: their own user
// topic, a node topic for a subtree where they may view processes, and a
// module's topic when its rule lets them.
func (h *HTTP) allowed(ctx context.Context, p *auth.Principal, topic string) bool {
	kind, rest, _ := strings.Cut(topic, ":")
	switch kind {
	case "user":
		return rest == strconv.FormatInt(p.StaffID, 10)
	case "node":
		return p.Can(auth.PermFlowView, rest) || p.Can(auth.PermOrgView, rest)
	}
	rule := h.Rules[kind]
	return rule != nil && rule(ctx, p, rest)
}

// stream serves text/event-stream for ?topic=a&topic=b (default: the
// caller's user topic). Each event is "event: TYPE\ndata: JSON\n\n".
func (h *HTTP) stream(c *web.Ctx) error {
	topics := c.R.URL.Query()["topic"]
	if len(topics) == 0 {
		topics = []string{UserTopic(c.P.StaffID)}
	}
	if len(topics) > 20 {
		return errs.Invalid("topic", "error.field.too_long")
	}
	for _, t := range topics {
		if !h.allowed(c.R.Context(), c.P, t) {
			return errs.Forbidden()
		}
	}
	fl, ok := c.W.(http.Flusher)
	if !ok {
		return fmt.Errorf("live: response cannot stream")
	}
	hb, maxAge := h.Heartbeat, h.MaxAge
	if hb == 0 {
		hb = 25 * time.Second
	}
	if maxAge == 0 {
		maxAge = 30 * time.Minute
	}
	sub := h.Hub.Subscribe(topics...)
	defer sub.Close()
	hd := c.W.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Connection", "keep-alive")
	hd.Set("X-Accel-Buffering", "no") // nginx must not buffer the stream
	c.W.WriteHeader(http.StatusOK)
	fmt.Fprint(c.W, "retry: 3000\n: connected\n\n")
	fl.Flush()
	beat := time.NewTicker(hb)
	defer beat.Stop()
	end := time.NewTimer(maxAge)
	defer end.Stop()
	ctx := c.R.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end.C:
			return nil
		case <-h.Hub.done:
			return nil
		case <-beat.C:
			if _, err := fmt.Fprint(c.W, ": ping\n\n"); err != nil {
				return nil
			}
			fl.Flush()
		case ev := <-sub.C:
			data := ev.Data
			if len(data) == 0 {
				data = []byte("{}")
			}
			if _, err := fmt.Fprintf(c.W, "event: %s\ndata: %s\n\n", ev.Type, data); err != nil {
				return nil
			}
			fl.Flush()
		}
	}
}
