#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1,
# run from jars fetched from Maven Central. See README.md beside this file.
#
#   kafka.sh jars                          fetch the jars into lib/ (idempotent)
#   kafka.sh start DIR [PORT]              write DIR/server.properties, format, start, wait
#   kafka.sh resume DIR                    start an already formatted DIR again, wait
#   kafka.sh wait HOST:PORT [SECONDS]      wait until the broker answers metadata
#   kafka.sh topic HOST:PORT NAME PARTITIONS [key=value ...]   create a topic (idempotent)
#   kafka.sh stop DIR                      SIGTERM, wait up to 30 s, then SIGKILL
#   kafka.sh kill DIR                      SIGKILL at once (crash simulation)
#   kafka.sh restart-same DIR              stop, then resume on the same data
#   kafka.sh status DIR                    exit 0 if the broker of DIR runs
#
# Environment: KAFKA_HEAP_OPTS (default -Xms256M -Xmx768M), KAFKA_JVM_OPTS (extra JVM flags),
# KAFKA_START_TIMEOUT (seconds, default 90), KAFKA_LOG_LEVEL (default WARN);
# for 'start' only: KAFKA_EXTRA_CONFIG (a properties file appended to server.properties, its
# keys overriding the generated ones: more listeners, TLS, SASL) and KAFKA_FORMAT_ARGS (more
# arguments of the storage format, e.g. --add-scram SCRAM-SHA-512=[name=u,password=p]).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$HERE/lib"
STAMP="$LIB/.complete"

die() { echo "kafka.sh: $*" >&2; exit 1; }
note() { echo "kafka.sh: $*" >&2; }

usage() {
    sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_java() {
    command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka 4.x needs Java 17+; apt-get install -y openjdk-17-jre-headless)"
    local v
    v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    if [[ -n "$v" && "$v" -lt 17 ]]; then
        die "java $v found, Kafka 4.x needs Java 17+"
    fi
}

pom_sum() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

jars_ready() { [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(pom_sum)" ]]; }

cmd_jars() {
    need_java
    if jars_ready; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once to fetch the Kafka jars; apt-get install -y maven)"
    local tmp="$HERE/lib.tmp.$$"
    rm -rf "$tmp"
    note "fetching Kafka jars from Maven Central into $LIB ..."
    local log="$HERE/lib.tmp.$$.log"
    if ! mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
        cat "$log" >&2
        rm -rf "$tmp" "$log"
        die "mvn dependency:copy-dependencies failed (see above)"
    fi
    rm -f "$log"
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no kafka_2.13 jar after mvn"; }
    pom_sum >"$tmp/.complete"
    if jars_ready; then
        # another run finished first
        rm -rf "$tmp"
        return 0
    fi
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    note "jars ready: $(find "$LIB" -name "*.jar" | wc -l) jars in $LIB"
}

ensure_jars() { jars_ready || cmd_jars; need_java; }

# tcp_open HOST PORT: is something accepting connections there?
tcp_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# metadata_ok HOST:PORT: the broker answers a metadata request (kcat), else a TCP connect.
metadata_ok() {
    if command -v kcat >/dev/null 2>&1; then
        kcat -b "$1" -L -m 3 >/dev/null 2>&1
    else
        tcp_open "${1%:*}" "${1##*:}"
    fi
}

# Absolute path of DIR (created if asked).
abs_dir() {
    local d="$1"
    [[ -n "$d" ]] || die "DIR missing"
    if [[ "${2:-}" == create ]]; then mkdir -p "$d"; fi
    [[ -d "$d" ]] || die "$d is not a directory"
    (cd "$d" && pwd)
}

# alive PID: the process exists and is not a zombie (an orphaned broker may stay a zombie
# where PID 1 does not reap children).
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local state
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X ]]
}

# Pid of the broker of DIR if it runs (and is really ours), else empty.
running_pid() {
    local dir="$1" pid
    [[ -f "$dir/kafka.pid" ]] || return 0
    pid="$(cat "$dir/kafka.pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/server.properties"; then
        echo "$pid"
    fi
}

broker_port() {
    local p
    p="$(cat "$1/kafka.port" 2>/dev/null || true)"
    [[ "$p" =~ ^[0-9]+$ ]] || die "$1/kafka.port missing: was $1 made by 'kafka.sh start'?"
    echo "$p"
}

write_config() {
    local dir="$1" port="$2" cport="$3"
    cat >"$dir/server.properties" <<EOF
# Written by deploy/kafka/kafka.sh start: single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$dir/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=4

offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
# After a SIGKILL the old broker registration must expire before the restarted broker is
# unfenced: the default 9 s session made 'kill' + 'resume' take ~14 s; 4 s makes it ~7 s.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000

log.retention.hours=24
log.segment.bytes=67108864
EOF
    echo "$port" >"$dir/kafka.port"
}

# 16 random bytes as unpadded URL-safe base64 (22 chars), what Uuid.randomUuid() prints.
random_cluster_id() {
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
        [[ "$id" != -* && "$id" != AAAAAAAAAAAAAAAAAAAAA* ]] && break
    done
    echo "$id"
}

check_ports_free() {
    local p
    for p in "$1" "$(($1 + 1))"; do
        if tcp_open 127.0.0.1 "$p"; then
            die "port $p on 127.0.0.1 is already in use (pick another PORT; the broker needs PORT and PORT+1)"
        fi
    done
}

launch() {
    local dir="$1" port="$2"
    local pid
    pid="$(running_pid "$dir")"
    [[ -z "$pid" ]] || die "a broker already runs for $dir (pid $pid)"
    check_ports_free "$port"
    mkdir -p "$dir/logs"
    # shellcheck disable=SC2086
    nohup java ${KAFKA_HEAP_OPTS:--Xms256M -Xmx768M} \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
        -Dkafka.logs.dir="$dir/logs" \
        -Dkafka.log.level="${KAFKA_LOG_LEVEL:-WARN}" \
        ${KAFKA_JVM_OPTS:-} \
        -cp "$LIB/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >>"$dir/logs/kafka.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/kafka.pid"
    wait_started "$dir" "$port" "$pid"
}

wait_started() {
    local dir="$1" port="$2" pid="$3"
    local limit="${KAFKA_START_TIMEOUT:-90}" start=$SECONDS
    while :; do
        if ! alive "$pid"; then
            echo "kafka.sh: broker (pid $pid) exited during start-up; last log lines:" >&2
            tail -n 40 "$dir/logs/kafka.out" "$dir/logs/server.log" >&2 2>/dev/null || true
            rm -f "$dir/kafka.pid"
            exit 1
        fi
        if tcp_open 127.0.0.1 "$port" && metadata_ok "127.0.0.1:$port"; then
            break
        fi
        if ((SECONDS - start >= limit)); then
            echo "kafka.sh: broker not answering on 127.0.0.1:$port after ${limit} s; last log lines:" >&2
            tail -n 40 "$dir/logs/kafka.out" "$dir/logs/server.log" >&2 2>/dev/null || true
            note "stopping the broker that did not become ready"
            cmd_stop "$dir" || true
            exit 1
        fi
        sleep 0.2
    done
    note "broker pid $pid ready on 127.0.0.1:$port after $((SECONDS - start)) s (data in $dir)"
    echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"
}

cmd_start() {
    [[ $# -ge 1 ]] || usage
    local dir port="${2:-9092}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number"
    ensure_jars
    dir="$(abs_dir "$1" create)"
    if [[ -f "$dir/data/meta.properties" ]]; then
        die "$dir is already formatted: use 'kafka.sh resume $dir', or remove it for a fresh broker"
    fi
    [[ -z "$(running_pid "$dir")" ]] || die "a broker already runs for $dir"
    check_ports_free "$port"
    write_config "$dir" "$port" "$((port + 1))"
    if [[ -n "${KAFKA_EXTRA_CONFIG:-}" ]]; then
        [[ -f "$KAFKA_EXTRA_CONFIG" ]] || die "KAFKA_EXTRA_CONFIG=$KAFKA_EXTRA_CONFIG is not a file"
        { echo; echo "# From $KAFKA_EXTRA_CONFIG (later keys win)"; cat "$KAFKA_EXTRA_CONFIG"; } >>"$dir/server.properties"
    fi
    local -a format_args=()
    read -r -a format_args <<<"${KAFKA_FORMAT_ARGS:-}"
    mkdir -p "$dir/logs"
    local cid
    cid="$(random_cluster_id)"
    if ! java -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
            -cp "$LIB/*" kafka.tools.StorageTool format --standalone \
            -t "$cid" -c "$dir/server.properties" "${format_args[@]}" >"$dir/logs/format.out" 2>&1; then
        cat "$dir/logs/format.out" >&2
        die "formatting $dir failed"
    fi
    launch "$dir" "$port"
}

cmd_resume() {
    [[ $# -eq 1 ]] || usage
    local dir port
    ensure_jars
    dir="$(abs_dir "$1")"
    [[ -f "$dir/server.properties" && -f "$dir/data/meta.properties" ]] \
        || die "$dir is not a formatted broker folder (run 'kafka.sh start $dir' first)"
    port="$(broker_port "$dir")"
    launch "$dir" "$port"
}

cmd_wait() {
    [[ $# -ge 1 ]] || usage
    local addr="$1" limit="${2:-90}" start=$SECONDS
    [[ "$addr" == *:* ]] || die "wait needs HOST:PORT"
    until metadata_ok "$addr"; do
        if ((SECONDS - start >= limit)); then
            die "no Kafka broker answered on $addr within $limit s"
        fi
        sleep 0.3
    done
}

cmd_topic() {
    [[ $# -ge 3 ]] || usage
    ensure_jars
    java -Dlog4j2.level=ERROR -cp "$LIB/*" "$HERE/CreateTopic.java" "$@"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local dir pid i
    dir="$(abs_dir "$1")"
    pid="$(running_pid "$dir")"
    if [[ -z "$pid" ]]; then
        rm -f "$dir/kafka.pid"
        note "no broker running for $dir"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        note "broker pid $pid still alive after 30 s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$dir/kafka.pid"
}

cmd_kill() {
    [[ $# -eq 1 ]] || usage
    local dir pid
    dir="$(abs_dir "$1")"
    pid="$(running_pid "$dir")"
    if [[ -n "$pid" ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$dir/kafka.pid"
}

cmd_status() {
    [[ $# -eq 1 ]] || usage
    local dir pid
    dir="$(abs_dir "$1")"
    pid="$(running_pid "$dir")"
    if [[ -n "$pid" ]]; then
        echo "running pid $pid KAFKA_BOOTSTRAP=127.0.0.1:$(broker_port "$dir")"
    else
        echo "not running"
        return 1
    fi
}

main() {
    [[ $# -ge 1 ]] || usage
    local sub="$1"
    shift
    case "$sub" in
        jars) cmd_jars ;;
        start) cmd_start "$@" ;;
        resume) cmd_resume "$@" ;;
        wait) cmd_wait "$@" ;;
        topic) cmd_topic "$@" ;;
        stop) cmd_stop "$@" ;;
        kill) cmd_kill "$@" ;;
        restart-same) cmd_stop "$@" && cmd_resume "$@" ;;
        status) cmd_status "$@" ;;
        -h | --help | help) usage ;;
        *) note "unknown subcommand: $sub"; usage ;;
    esac
}

main "$@"
