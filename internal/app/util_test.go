package app_test

import (
	"io"
	"log/slog"
	"strconv"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
