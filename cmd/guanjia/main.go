// Command guanjia runs the butler-service platform: one binary on SQLite or
// PostgreSQL.
//
//	guanjia serve [--addr 127.0.0.1:8080] [--data ./data] [--db postgres://…] [--demo]
//	guanjia migrate | demo | version
//	guanjia admin create --username NAME --password PW
//	guanjia calendar add --calendar cn-workday --from 2025-09-30T16:00:00+08:00 --duration 8h
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/sms"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "guanjia:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage: guanjia <command> [flags]

commands:
  serve            run the web server (and job workers)
  migrate          apply database migrations and exit
  demo             load the demo data into an empty database
  admin create     create an administrator account
  flow validate    check BPMN or YAML process files without deploying them
  calendar         add working time, count it, import holidays
  pii rekey        re-seal personal data under the current key (key rotation)
  version          print the version

Run "guanjia <command> -h" for the flags of a command.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "admin":
		return cmdAdmin(ctx, rest, stdout, stderr)
	case "flow":
		return cmdFlow(ctx, rest, stdout, stderr)
	case "calendar":
		return cmdCalendar(ctx, rest, stdout, stderr)
	case "pii":
		return cmdPII(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "guanjia", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{"unknown command " + cmd}
}

// common flags shared by commands that open the database.
type common struct {
	data, dbURL, sync, logLevel, piiKey string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", env("GUANJIA_DATA", "./data"), "data folder: the SQLite file and uploaded files (GUANJIA_DATA)")
	fs.StringVar(&c.dbURL, "db", env("GUANJIA_DB", ""), "postgres:// URL; empty for SQLite in the data folder (GUANJIA_DB)")
	fs.StringVar(&c.sync, "sqlite-sync", env("GUANJIA_SQLITE_SYNC", "normal"), "SQLite synchronous: normal (survives process crashes) or full (also power loss) (GUANJIA_SQLITE_SYNC)")
	fs.StringVar(&c.logLevel, "log-level", env("GUANJIA_LOG_LEVEL", "info"), "debug, info, warn or error (GUANJIA_LOG_LEVEL)")
	fs.StringVar(&c.piiKey, "pii-key", env("GUANJIA_PII_KEY", ""), "key ring sealing personal data: id:base64key[,id:base64key…], the current key first; empty: pii.key in the data folder, made on first start (GUANJIA_PII_KEY)")
}

func (c *common) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

func (c *common) config() app.Config {
	return app.Config{DataDir: c.data, DBURL: c.dbURL, SQLiteSync: db.Sync(c.sync), PIIKeys: c.piiKey}
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	return nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	addr := fs.String("addr", env("GUANJIA_ADDR", "127.0.0.1:8080"), "listen address (GUANJIA_ADDR)")
	withDemo := fs.Bool("demo", env("GUANJIA_DEMO", "") == "1", "load demo data on first start (GUANJIA_DEMO=1)")
	secure := fs.Bool("secure-cookies", env("GUANJIA_SECURE_COOKIES", "auto") == "1", "mark cookies Secure (default: on unless listening on loopback) (GUANJIA_SECURE_COOKIES)")
	proxy := fs.Bool("trust-proxy", env("GUANJIA_TRUST_PROXY", "") == "1", "take the client IP from X-Forwarded-For (GUANJIA_TRUST_PROXY=1)")
	smsURL := fs.String("sms-url", env("GUANJIA_SMS_URL", ""), "SMS gateway URL; empty writes messages to the log (GUANJIA_SMS_URL)")
	smsTemplate := fs.String("sms-template", env("GUANJIA_SMS_TEMPLATE", ""), `request body for the gateway with {phone} and {text} (GUANJIA_SMS_TEMPLATE; default {"phone":"{phone}","text":"{text}"})`)
	if err := parse(fs, args); err != nil {
		return err
	}
	log := c.logger(stderr)
	cfg := c.config()
	cfg.Addr, cfg.Workers, cfg.TrustProxy = *addr, true, *proxy
	if *smsURL != "" {
		cfg.SMSProvider = &sms.HTTPGateway{URL: *smsURL, Template: *smsTemplate}
	}
	cfg.SecureCookies = *secure || (os.Getenv("GUANJIA_SECURE_COOKIES") == "" && !isLoopback(*addr))
	if cfg.DBURL != "" && cfg.PIIKeys == "" {
		log.Warn("no --pii-key: personal data is sealed with pii.key in the data folder; every instance on this database must use that same key (set GUANJIA_PII_KEY)")
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if *withDemo {
		loaded, err := a.LoadDemo(ctx)
		if err != nil {
			return fmt.Errorf("demo: %w (demo data goes only into an empty database or an existing demo)", err)
		}
		if loaded {
			log.Info("demo data loaded")
		}
	} else if pw, err := a.EnsureAdmin(ctx); err != nil {
		return err
	} else if pw != "" {
		fmt.Fprintf(stdout, "\nFirst start: created the administrator account.\n  username: admin\n  password: %s\n(shown once; you must change it at first login)\n\n", pw)
	}
	return a.Serve(ctx, func(bound string) {
		host := bound
		if strings.HasPrefix(host, "127.0.0.1:") || strings.HasPrefix(host, "[::]:") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "localhost:" + host[strings.LastIndex(host, ":")+1:]
		}
		fmt.Fprintf(stdout, "guanjia %s serving on http://%s (database: %s)\n", version, host, a.DB.Dialect)
		if isDemo, _ := demo.IsDemo(ctx, a.DB); isDemo {
			fmt.Fprintf(stdout, "Demo logins (password %s):\n", demo.Password)
			for _, acc := range demo.Accounts {
				fmt.Fprintf(stdout, "  %-11s %s · %s\n", acc.Username, acc.Name, acc.Where)
			}
		}
	})
}

func isLoopback(addr string) bool {
	return strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "localhost:") || strings.HasPrefix(addr, "[::1]:")
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := app.New(ctx, c.config(), c.logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := app.New(ctx, c.config(), c.logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	loaded, err := a.LoadDemo(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w (demo data goes only into an empty database)", err)
	}
	if loaded {
		fmt.Fprintln(stdout, "demo data loaded")
	} else {
		fmt.Fprintln(stdout, "demo data already present")
	}
	return nil
}

func cmdAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: guanjia admin create --username NAME --password PW [--name NAME]"}
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	username := fs.String("username", "", "login name")
	name := fs.String("name", "管理员", "display name")
	password := fs.String("password", "", "password (at least 8 characters); read from GUANJIA_ADMIN_PASSWORD when empty")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *password == "" {
		*password = os.Getenv("GUANJIA_ADMIN_PASSWORD")
	}
	if *username == "" || len([]rune(*password)) < 8 {
		return usageError{"admin create needs --username and a --password of at least 8 characters"}
	}
	a, err := app.New(ctx, c.config(), c.logger(stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.CreateAdmin(ctx, *username, *name, *password, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "administrator %s created (id %d)\n", st.Username, st.ID)
	return nil
}
