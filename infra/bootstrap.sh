#!/usr/bin/env bash
# Machine prerequisites for `make setup`: checks java and mvn, installs redis-server,
# redis-cli, libmagic and chromium from Debian's packages when missing and we are root. Says what to install otherwise.
# Never touches the Python environment (the Makefile owns .venv).
set -euo pipefail

die() {
    echo "$*" >&2
    exit 1
}

require_java() {
    if [[ -n "${JAVA_HOME:-}" ]]; then
        [[ -x "$JAVA_HOME/bin/java" ]] ||
            die "java not found at $JAVA_HOME/bin/java: fix JAVA_HOME or install OpenJDK 17"
    else
        command -v java >/dev/null ||
            die "java not found: install OpenJDK 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    fi
}

require_mvn() {
    command -v mvn >/dev/null ||
        die "mvn not found: install Maven (apt-get install maven); it fetches the Kafka jars once"
}

# Debian starts a packaged service on install; a system redis on 6379 would take Chirp's port.
# policy-rc.d (exit 101) is Debian's switch for "do not start services", held only meanwhile.
POLICY_RC_D="${POLICY_RC_D:-/usr/sbin/policy-rc.d}"
created_policy=""

remove_created_policy() {
    if [[ -n "$created_policy" ]]; then
        rm -f "$created_policy"
    fi
}

apt_install_without_starting_services() {
    if [[ ! -e "$POLICY_RC_D" ]]; then
        trap remove_created_policy EXIT
        printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
        chmod +x "$POLICY_RC_D"
        created_policy="$POLICY_RC_D"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@"
}

# redis-cli (Debian's redis-tools) forms the local Redis Cluster.
ensure_redis_server() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    [[ "$(id -u)" == 0 ]] ||
        die "redis-server or redis-cli not found: install them (sudo apt-get install redis-server redis-tools), then run make setup again"
    command -v apt-get >/dev/null ||
        die "redis-server not found and there is no apt-get: install Redis 7 with your package manager"
    echo "installing redis-server and redis-tools from Debian's packages"
    apt_install_without_starting_services redis-server redis-tools
    command -v redis-server >/dev/null || die "redis-server still not on PATH after apt-get install"
    command -v redis-cli >/dev/null || die "redis-cli still not on PATH after apt-get install"
}

# libmagic sniffs uploads' types (python-magic loads it at run time).
ensure_libmagic() {
    ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' && return 0
    [[ "$(id -u)" == 0 ]] ||
        die "libmagic not found: install it (sudo apt-get install libmagic1), then run make setup again"
    command -v apt-get >/dev/null ||
        die "libmagic not found and there is no apt-get: install libmagic with your package manager"
    echo "installing libmagic1 from Debian's packages"
    apt_install_without_starting_services libmagic1
}

# promtool (Debian's prometheus package) checks and unit-tests the alert rules in `make test`.
# Installed without starting the Prometheus server it comes with.
ensure_promtool() {
    command -v promtool >/dev/null && return 0
    [[ "$(id -u)" == 0 ]] ||
        die "promtool not found: install it (sudo apt-get install prometheus), then run make setup again"
    command -v apt-get >/dev/null ||
        die "promtool not found and there is no apt-get: install Prometheus's promtool"
    echo "installing prometheus (for promtool) from Debian's packages"
    apt_install_without_starting_services prometheus
    command -v promtool >/dev/null || die "promtool still not on PATH after apt-get install"
}

# Chromium (Debian's package) runs the web client's browser tests through Playwright, which is
# never allowed to download a browser of its own. Without it those tests are skipped.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

ensure_chromium() {
    [[ -x "$CHROMIUM" ]] && return 0
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        echo "chromium not found at $CHROMIUM: the browser tests will be skipped (sudo apt-get install chromium)" >&2
        return 0
    fi
    echo "installing chromium from Debian's packages (for the browser tests)"
    apt_install_without_starting_services chromium fonts-dejavu-core
    [[ -x "$CHROMIUM" ]] || die "chromium still not at $CHROMIUM after apt-get install"
}

case "${1:-}" in
    java) require_java ;;
    mvn) require_mvn ;;
    redis) ensure_redis_server ;;
    libmagic) ensure_libmagic ;;
    chromium) ensure_chromium ;;
    promtool) ensure_promtool ;;
    *) die "usage: $0 java|mvn|redis|libmagic|promtool|chromium" ;;
esac
