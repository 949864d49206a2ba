# guanjia — the few honest targets.
GO      ?= go
VENDOR  := internal/web/static/vendor/.stamp
DATA    ?= ./data
ADDR    ?= 127.0.0.1:8080

.PHONY: run build test test-short bench lint assets clean

## run: build and serve on the embedded SQLite with demo data
run: build
	./bin/guanjia serve --demo --data $(DATA) --addr $(ADDR)

## build: the single binary, with the front-end packages embedded
build: $(VENDOR)
	$(GO) build -o bin/guanjia ./cmd/guanjia

## test: the whole suite (SQLite always; PostgreSQL too when GUANJIA_TEST_POSTGRES is set)
test: $(VENDOR)
	$(GO) vet ./...
	@unformatted=$$(gofmt -l cmd internal); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -count=1 -timeout 30m ./...

## bench: the benchmarks, each run on its own
bench: $(VENDOR)
	$(GO) test -run '^$$' -bench . -benchtime 2s -timeout 60m ./...

lint:
	$(GO) vet ./...
	gofmt -l cmd internal

## assets: install the npm packages and copy what the pages use
assets: $(VENDOR)

$(VENDOR): web/package.json web/package-lock.json web/copy-vendor.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd web && node copy-vendor.mjs
	touch $(VENDOR)

clean:
	rm -rf bin internal/web/static/vendor web/node_modules
