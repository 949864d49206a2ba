package sms_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/sms"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type flaky struct {
	fails int
	sent  []sms.Message
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Send(_ context.Context, m sms.Message) error {
	if f.fails > 0 {
		f.fails--
		return errors.New("gateway down")
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestQueuedInTransactionDeliveredWithRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		q := jobs.New(d, log)
		p := &flaky{fails: 1}
		s := sms.New(d, q, p, log)
		if err := q.Build(false); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		// A rolled-back cause sends nothing.
		_ = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := s.Enqueue(ctx, sms.Message{Phone: "13800000009", Text: "never"}); err != nil {
				t.Fatal(err)
			}
			return errors.New("roll back")
		})
		var id int64
		if err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) (err error) {
			id, err = s.Enqueue(ctx, sms.Message{Phone: "13800000001", Text: "您的验证码是 482913，5 分钟内有效。", Purpose: "otp"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Deliver(ctx, id, false); err == nil {
			t.Fatal("first attempt should fail and be retried")
		}
		if err := s.Deliver(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if err := s.Deliver(ctx, id, false); err != nil || len(p.sent) != 1 {
			t.Fatalf("delivered %d times (%v)", len(p.sent), err)
		}
		list, err := s.List(ctx, 0, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		var stored string
		_ = d.Q(ctx).QueryRowContext(ctx, `SELECT body FROM sms_messages WHERE id = ?`, id).Scan(&stored)
		if strings.Contains(stored, "482913") {
			t.Fatalf("a delivered code is still stored: %q", stored)
		}
		if list[0].State != "sent" || list[0].Attempts != 2 || list[0].Phone != "138****0001" || strings.Contains(list[0].Text, "482913") {
			t.Fatalf("admin view: %+v", list[0])
		}
	})
}

func TestConsoleWritesOneLineWithPhoneAndText(t *testing.T) {
	var buf bytes.Buffer
	c := &sms.Console{W: &buf}
	if err := c.Send(context.Background(), sms.Message{Phone: "13800000001", Text: "验证码 123456\n请勿泄露"}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "SMS to 13800000001: 验证码 123456 请勿泄露\n" {
		t.Fatalf("%q", got)
	}
}
