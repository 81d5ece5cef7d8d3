# OneMap: `make demo` runs it on the sample, `make test` passes the tests.
# Every install step lives here, so a fresh machine (and CI) needs nothing done by hand.

SWIFT      ?= swift
DB         ?= onemap.sqlite
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# C libraries OneMap links, plus the tools the tests and the demo use.
APT_PACKAGES := pkg-config libgeos-dev libproj-dev libgdal-dev libspatialite-dev \
                libsqlite3-mod-spatialite gdal-bin sqlite3 proj-data zlib1g-dev
# What the tests need beyond the build: a browser for the viewer's end-to-end test, CJK fonts
# for its screenshots, Shapely (on Debian's GEOS, the library the server links) for the CQL2
# oracle, QGIS (headless, with its providers) and OWSLib as the GIS clients that must read
# OneMap, PostgreSQL 15 with PostGIS for the PostGIS backend's tests (a throwaway cluster,
# .ci/with-postgres) and HAProxy in front of its replicas (deploy/haproxy.cfg), and Python packages for the OpenAPI check and the DevTools client,
# pyogrio, whose bundled GDAL (3.9 or later) is the OGC API – Tiles client (Debian's 3.6 was
# built without that driver's vector tiles) and decodes archived tiles, and pmtiles, the
# reference PMTiles reader. GDAL's and PROJ's Python bindings read the batch check's output and
# measure its areas on the ellipsoid (pyproj's Geod).
TEST_APT_PACKAGES := chromium fonts-noto-cjk python3-shapely python3-qgis qgis-providers python3-owslib \
                     python3-gdal python3-pyproj postgresql-15 postgresql-15-postgis-3 haproxy
PIP_TEST_PACKAGES := openapi-spec-validator websocket-client pillow schemathesis cryptography pyogrio pmtiles

.PHONY: deps test-deps vendor build release install test e2e demo bench bench-smoke clean format format-check

## Install the Debian packages that are missing (apt-get update runs only when needed).
# $(call apt_install,PACKAGES)
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

## MapLibre GL JS for the viewer, from the PyPI package `maplibre` (never a CDN), kept out of git.
MAPLIBRE_VERSION := 0.3.6
vendor: vendor/maplibre/maplibre-gl.js

vendor/maplibre/maplibre-gl.js:
	@mkdir -p vendor/maplibre
	@tmp=$$(mktemp -d) && python3 -m pip download --quiet --no-deps --dest $$tmp maplibre==$(MAPLIBRE_VERSION) && \
	  python3 -c "import sys, zipfile, glob; z = zipfile.ZipFile(glob.glob(sys.argv[1] + '/*.whl')[0]); \
	  [open('vendor/maplibre/' + n.split('/')[-1], 'wb').write(z.read(n)) for n in ('maplibre/srcjs/maplibre-gl.js', 'maplibre/srcjs/maplibre-gl.css')]" $$tmp && \
	  rm -rf $$tmp && echo "MapLibre GL JS from maplibre $(MAPLIBRE_VERSION) in vendor/maplibre"

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The release binary in $(PREFIX)/bin and what the viewer reads beside it in
## $(PREFIX)/share/onemap (MapLibre GL JS and the styles), where `onemap serve` looks first,
## whatever directory it is started from. DESTDIR stages a package.
PREFIX ?= /usr/local
install: release vendor
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/onemap/maplibre $(DESTDIR)$(PREFIX)/share/onemap/styles
	install -m 755 .build/release/onemap $(DESTDIR)$(PREFIX)/bin/onemap
	install -m 644 vendor/maplibre/maplibre-gl.js vendor/maplibre/maplibre-gl.css $(DESTDIR)$(PREFIX)/share/onemap/maplibre/
	install -m 644 Styles/*.json $(DESTDIR)$(PREFIX)/share/onemap/styles/

test-deps: deps
	$(call apt_install,$(TEST_APT_PACKAGES))
	@python3 -c "import openapi_spec_validator, websocket, PIL, schemathesis, cryptography, pyogrio, pmtiles" 2>/dev/null || python3 -m pip install --quiet $(PIP_TEST_PACKAGES)

## Formatting, as .swift-format says: `make format` rewrites the tree; `make format-check` (CI,
## before the tests, a few seconds) fails on any file that `make format` would change.
FORMAT_PATHS := Package.swift Sources Tests
format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)
format-check:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

## Build, then run every test: the Swift tests (the crash tests run the binary, so it is built
## first; the PostGIS backend's beside a throwaway PostgreSQL cluster), then the viewer in a
## real browser.
test: test-deps vendor
	$(SWIFT) build
	.ci/with-postgres $(SWIFT) test
	python3 Tests/e2e/viewer_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_signin_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_sso_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_assets_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/crash_safety.py --binary .build/debug/onemap
	python3 Tests/e2e/archives_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_offline_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/schemathesis_run.py --binary .build/debug/onemap
	python3 Tests/e2e/schemathesis_run.py --binary .build/debug/onemap --role admin --max-examples 40 --min-requests 1500
	/usr/bin/python3 Tests/e2e/cql2_oracle.py --binary .build/debug/onemap
	/usr/bin/python3 Tests/e2e/clients_e2e.py --binary .build/debug/onemap --gdal-python "$$(command -v python3)"
	/usr/bin/python3 Tests/e2e/batch_e2e.py --binary .build/debug/onemap
	.ci/with-postgres python3 Tests/e2e/replica_e2e.py --binary .build/debug/onemap --within 20

e2e: test-deps vendor
	$(SWIFT) build
	python3 Tests/e2e/viewer_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_signin_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_sso_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_assets_e2e.py --binary .build/debug/onemap
	python3 Tests/e2e/viewer_offline_e2e.py --binary .build/debug/onemap

## Load the sample catalog (again only when it changed) and serve it at http://127.0.0.1:8080.
demo: release vendor $(DB)
	.build/release/onemap layers --db $(DB)
	.build/release/onemap serve --db $(DB) --host 127.0.0.1 --port 8080 --open

$(DB): $(wildcard Layers/*.yaml sampledata/*.*)
	.build/release/onemap load --catalog Layers --db $(DB)
	@touch $(DB)

## OneMap side by side with PostGIS, SpatiaLite and ogr2ogr on the same data (not part of test).
bench: deps
	bench/run

bench-smoke: deps
	bench/run --smoke

clean:
	rm -rf .build $(DB) $(DB)-wal $(DB)-shm $(basename $(DB))-records.sqlite*
