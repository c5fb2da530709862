# The two promised commands are `make demo` and `make test`; both install first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEB_PACKAGES := busybox-static skopeo umoci docker-registry git zstd xz-utils bzip2

.PHONY: install demo test test-fast bench fuzz clean debs

install: $(STAMP) debs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m compileall -q src/pybuildkit  # bytecode even where PYTHONDONTWRITEBYTECODE is set: start-up matters
	touch $(STAMP)

# Debian tools the integration tests drive for real; installed only when missing.
debs:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "warning: missing Debian packages:$$missing (integration tests needing them will skip)"; \
	  fi; \
	fi

demo: install
	$(VENV)/bin/python examples/demo.py

test: install
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

test-fast: install
	$(VENV)/bin/pytest -q -n 2 tests/unit tests/conformance

bench: install
	$(VENV)/bin/python benchmarks/run.py

fuzz: install
	$(VENV)/bin/python -m pip install -q atheris && $(VENV)/bin/python benchmarks/fuzz.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .demo
