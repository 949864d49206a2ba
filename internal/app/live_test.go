package app_test

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// A task created for the butler reaches their open page without a reload; another user's stream stays silent.
func TestLiveTaskEventsOverSSE(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		admin, butler := e.Login("admin"), e.Login("butler")
		src := "key: call\nsteps:\n  - id: call\n    name: 回电\n    assignee: butler\n"
		if res := e.Do("POST", "/api/v1/process-definitions", admin, src, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("deploy: %d %s", res.StatusCode, res.Body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		open := func(token, query string) (*bufio.Reader, *http.Response) {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events"+query, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { res.Body.Close() })
			return bufio.NewReader(res.Body), res
		}
		stream, res := open(butler, "")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("X-Accel-Buffering") != "no" {
			t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
		}
		// Somebody else's topic is refused.
		if _, res := open(butler, "?topic=user:1"); res.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign topic: %d", res.StatusCode)
		}
		waitLine(t, stream, ": connected")
		garden := e.SiteID("示例花园")
		if res := e.Do("POST", "/api/v1/process-instances", admin, map[string]any{"definition_key": "call", "site_id": garden}, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("start: %d %s", res.StatusCode, res.Body)
		}
		waitLine(t, stream, "event: task.created")
	})
}

func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.TrimSpace(line) == want {
			return
		}
	}
}

// A case's stream is open to those who may see the case: the butler of
// 示例花园 follows one of its cases, a clerk of the hotel (who works with
// cases there) does not.
func TestCaseTopicFollowsTheCasesVisibility(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		butler, clerk := e.Login("butler"), e.Login("clerk")
		var unit int64
		if err := d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT u.id FROM units u JOIN households h ON h.unit_id = u.id WHERE u.site_id = ? ORDER BY u.id LIMIT 1`, e.SiteID("示例花园")).Scan(&unit); err != nil {
			t.Fatal(err)
		}
		var created struct {
			Case struct {
				ID int64 `json:"id"`
			} `json:"case"`
		}
		if res := e.Do("POST", "/api/v1/cases", butler, map[string]any{"type": "inquiry", "site_id": e.SiteID("示例花园"), "unit_id": unit, "description": "停车卡怎么办理"}, &created); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		status := func(token, topic string) int {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/events?topic="+topic, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		topic := "case:" + strconv.FormatInt(created.Case.ID, 10)
		if got := status(butler, topic); got != http.StatusOK {
			t.Errorf("butler: %d", got)
		}
		if got := status(clerk, topic); got != http.StatusForbidden {
			t.Errorf("hotel clerk: %d, want 403", got)
		}
		if got := status(butler, "case:x"); got != http.StatusForbidden {
			t.Errorf("bad id: %d, want 403", got)
		}
	})
}
