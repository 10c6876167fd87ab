#!/usr/bin/env python3
"""metaraft next to etcd, driven by the same load tool (wrk), on one machine.

    python3 scripts/bench/compare.py [--duration 10s] [--clients 1,16,64] [--quick]
                                     [--failover-rounds 3] [--markdown FILE]
                                     [--binary PATH] [--hello-binary PATH] [--build]
                                     [-- extra `metaraft serve` flags, e.g. --heartbeat-ms 100]

From a fresh clone it installs `wrk` and `etcd` (Debian: `apt-get install -y wrk etcd-server`) when they
are missing, builds `metaraft` and the bare axum server `examples/hello.rs` (release) when they are
missing, then, one system at a time:

  * starts a fresh 3-node etcd cluster on loopback (temp data dirs, default durability: fsync on),
    drives it with wrk, measures failover, stops it;
  * starts a fresh 3-node metaraft cluster (`metaraft dev`), the same;
  * starts the bare HTTP server and drives it (the HTTP ceiling on this machine).

Rows (wrk `-t2 -c<clients> -d<duration> --latency --timeout 5s`, `-t1` for one client):

  small write     etcd: PUT of a ~16-byte value (v3 JSON gateway /v3/kv/put) to the leader, key cycling
                  over 1024 keys per wrk thread; metaraft: update_cluster_mysql_user_name (a new user
                  name each request) on one pre-created instance, to the leader
  create          etcd: PUT of a brand-new key whose value is a create_instance body; metaraft:
                  create_instance with a unique instance id per request, to the leader
  linearizable read    etcd: /v3/kv/range of an existing key (linearizable, etcd's default); metaraft:
                  get_instance (linearizable) of an existing instance, on the leader
  write @follower the small write, sent to a follower (which forwards it to the leader)
  bare HTTP       GET /hello on examples/hello.rs (axum, multi-threaded tokio, no work behind it)

Every response is checked in wrk's Lua `response()` hook (HTTP 200 and `"code": "OK"` for metaraft,
HTTP 200 and the expected JSON field for etcd); a row with errors is flagged with `!`.

Failover: a few Python threads write (keep-alive http.client) to the two members that survive,
the leader is SIGKILLed, and the gap from the kill to the first acknowledged write *sent after the
kill* is reported (median of --failover-rounds; the killed member is restarted between rounds).

The binaries default to ./target/release (or $METARAFT_TARGET_DIR/release). Only processes the
script starts are touched, on ports it checked are free; everything is stopped and the temp dir
removed on exit, Ctrl-C or error. Python 3 stdlib only.
"""
import argparse, base64, json, os, random, re, shutil, signal, socket, statistics, subprocess, sys
import tempfile, threading, time, urllib.error, urllib.request
from http.client import HTTPConnection

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "bench-token"
ETCD_TIMING = "etcd defaults: heartbeat 100 ms, election timeout 1000 ms"
METARAFT_TIMING = "metaraft defaults: heartbeat 50 ms, election timeout 150-300 ms"


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# process bookkeeping: everything started here is registered and stopped in cleanup()

class Owned:
    def __init__(self):
        self.tmp = None
        self.procs = []  # (name, Popen, how) how: "dev" | "plain"
        self.current_wrk = None
        self.dev_dirs = []

    def add(self, name, p, how="plain"):
        self.procs.append((name, p, how))
        return p

    def cleanup(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if self.current_wrk and self.current_wrk.poll() is None:
            self.current_wrk.kill()
            self.current_wrk.wait()
        for name, p, how in self.procs:
            stop_proc(p, how)
        for d in self.dev_dirs:  # nodes of a `metaraft dev` that did not stop them (it should have)
            for pid in dev_node_pids(d):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.procs = []
        if self.tmp and os.path.isdir(self.tmp):
            if os.environ.get("COMPARE_KEEP_TMP"):
                log(f"keeping {self.tmp} (COMPARE_KEEP_TMP set)")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)


OWN = Owned()


def stop_proc(p, how):
    if p.poll() is not None:
        return
    try:
        if how == "dev":
            # `metaraft dev` stops its nodes cleanly on SIGTERM (up to 10 s); it is a session leader
            # (start_new_session), so its nodes share its process group: SIGKILL the group as a backstop.
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        else:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        p.wait(10)
    except Exception:
        try:
            p.kill()
        except Exception:
            pass


def dev_node_pids(d):
    """Pids in d/node-N.pid that are still running a process whose command line mentions d."""
    out = []
    for i in (1, 2, 3):
        try:
            pid = int(open(os.path.join(d, f"node-{i}.pid")).read().strip())
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except (OSError, ValueError):
            continue
        if d in cmd:
            out.append(pid)
    return out


def on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------------------------------------------
# tools, builds, ports

def run_logged(cmd, **kw):
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, **kw)


def ensure_tools():
    missing = [pkg for tool, pkg in (("wrk", "wrk"), ("etcd", "etcd-server")) if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"missing tools; install them first: apt-get install -y {' '.join(missing)}")
    log(f"installing {', '.join(missing)} with apt-get (the package's own etcd service is not used)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run_logged(["apt-get", "install", "-y", *missing], env=env).returncode != 0:
        run_logged(["apt-get", "update"], env=env)
        if run_logged(["apt-get", "install", "-y", *missing], env=env).returncode != 0:
            sys.exit("apt-get install failed")
    for tool in ("wrk", "etcd"):
        if not shutil.which(tool):
            sys.exit(f"{tool} still not found after installing")


def ensure_binaries(a, systems):
    target = os.environ.get("METARAFT_TARGET_DIR") or os.path.join(REPO, "target")
    mr = a.binary or os.path.join(target, "release", "metaraft")
    hello = a.hello_binary or os.path.join(target, "release", "examples", "hello")
    want = []
    if "metaraft" in systems and (a.build or not os.path.exists(mr)):
        if a.binary and not os.path.exists(mr):
            sys.exit(f"--binary {mr} does not exist")
        if not a.binary:
            want += ["--bin", "metaraft"]
    if "hello" in systems and (a.build or not os.path.exists(hello)):
        if a.hello_binary and not os.path.exists(hello):
            sys.exit(f"--hello-binary {hello} does not exist")
        if not a.hello_binary:
            want += ["--example", "hello"]
    if want:
        env = dict(os.environ, CARGO_TARGET_DIR=target)
        log(f"building (CARGO_TARGET_DIR={target})")
        if run_logged(["cargo", "build", "--release", *want], cwd=REPO, env=env).returncode != 0:
            sys.exit("cargo build failed")
    return os.path.abspath(mr), os.path.abspath(hello)


_taken = set()


def port_free(p):
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.bind((host, p))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_ports(n, contiguous=False):
    """n ports below the kernel's ephemeral range (so no outgoing connection can take them)."""
    for _ in range(2000):
        base = random.randrange(20000, 32000 - n)
        ports = list(range(base, base + n)) if contiguous else random.sample(range(20000, 32000), n)
        if not _taken.intersection(ports) and all(port_free(p) for p in ports):
            _taken.update(ports)
            return ports
    sys.exit("no free ports found")


# ---------------------------------------------------------------------------------------------
# HTTP helpers

def http(addr, path, body=None, method=None, timeout=3):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(f"http://{addr}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:
        return None, str(e)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def is_ok_envelope(body):
    return re.search(r'"code":\s*"OK"', body[:200]) is not None


def create_body(iid):
    return json.dumps({"instance_id": iid, "name": iid, "user_id": "u", "vault": {"obj_info": {
        "ak": "a", "sk": "s", "bucket": "b", "prefix": "p", "endpoint": "e", "external_endpoint": "e",
        "region": "r", "provider": "S3"}}}, separators=(",", ":"))


def wait_until(what, fn, timeout=40, procs=()):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited ({p.returncode}) while waiting for {what}")
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def tail(path, n=20):
    try:
        return "".join(open(path, errors="replace").readlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# the systems

class Etcd:
    name = "etcd"

    def __init__(self, tmp, extra_flags):
        self.dir = os.path.join(tmp, "etcd")
        os.makedirs(self.dir)
        ports = free_ports(6)
        self.client = {i: f"127.0.0.1:{ports[i - 1]}" for i in (1, 2, 3)}
        self.peer = {i: f"127.0.0.1:{ports[i + 2]}" for i in (1, 2, 3)}
        self.extra = extra_flags
        self.procs = {}
        self.cluster_token = f"bench-{os.getpid()}-{random.randrange(1 << 30)}"

    def start(self, i):
        initial = ",".join(f"e{j}=http://{self.peer[j]}" for j in (1, 2, 3))
        cmd = ["etcd", "--name", f"e{i}", "--data-dir", os.path.join(self.dir, f"e{i}"),
               "--listen-client-urls", f"http://{self.client[i]}", "--advertise-client-urls", f"http://{self.client[i]}",
               "--listen-peer-urls", f"http://{self.peer[i]}", "--initial-advertise-peer-urls", f"http://{self.peer[i]}",
               "--initial-cluster", initial, "--initial-cluster-state", "new",
               "--initial-cluster-token", self.cluster_token, "--logger", "zap", "--log-outputs", "stderr", *self.extra]
        out = open(os.path.join(self.dir, f"e{i}.log"), "a")
        self.procs[i] = OWN.add(f"etcd e{i}", subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                                              start_new_session=True))

    def start_all(self):
        for i in (1, 2, 3):
            self.start(i)
        self.wait_healthy()

    def _status(self, i):
        s, b = http(self.client[i], "/v3/maintenance/status", "{}", timeout=1)
        return json.loads(b) if s == 200 else None

    def leader(self):
        for i in (1, 2, 3):
            st = self._status(i)
            if st and st.get("leader") and st["header"]["member_id"] == st["leader"]:
                return i
        return None

    def wait_healthy(self):
        def ok():
            return all('"true"' in http(self.client[i], "/health", timeout=1)[1] for i in (1, 2, 3)) and self.leader()
        try:
            wait_until("etcd members healthy with a leader", ok, procs=[(f"etcd e{i}", p) for i, p in self.procs.items()])
        except RuntimeError:
            for i in (1, 2, 3):
                log(f"--- etcd e{i} log tail:\n{tail(os.path.join(self.dir, f'e{i}.log'))}")
            raise

    def prepare(self):
        s, b = http(self.client[self.leader()], "/v3/kv/put", json.dumps({"key": b64("bench/read"), "value": b64("v" * 16)}))
        if s != 200:
            raise RuntimeError(f"etcd: seeding the read key failed: {s} {b}")

    def kill(self, i):
        self.procs[i].kill()
        self.procs[i].wait()

    def restart(self, i):
        self.start(i)
        self.wait_healthy()

    def version(self):
        try:
            return subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        except OSError:
            return "?"

    # one small write for the failover writers: (path, body, ok(status, body))
    def fo_write(self, n):
        return "/v3/kv/put", json.dumps({"key": b64(f"bench/fo/{n % 1024}"), "value": b64("v" * 16)}), \
            lambda s, b: s == 200 and '"header"' in b

    def stop(self):
        for i, p in self.procs.items():
            stop_proc(p, "plain")


class Metaraft:
    name = "metaraft"

    def __init__(self, tmp, binary, serve_flags):
        self.dir = os.path.join(tmp, "metaraft")
        self.bin = binary
        self.base = free_ports(3, contiguous=True)[0]
        self.addr = {i: f"127.0.0.1:{self.base + i - 1}" for i in (1, 2, 3)}
        self.serve_flags = serve_flags
        self.proc = None

    def start_all(self):
        cmd = [self.bin, "dev", "--data-dir", self.dir, "--base-port", str(self.base), "--token", TOKEN]
        if self.serve_flags:
            cmd += ["--", *self.serve_flags]
        os.makedirs(self.dir)
        out = open(os.path.join(self.dir, "..", "metaraft-dev.log"), "a")
        self.proc = OWN.add("metaraft dev", subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                                             start_new_session=True), how="dev")
        OWN.dev_dirs.append(self.dir)
        try:
            wait_until("metaraft dev: members file", lambda: os.path.exists(os.path.join(self.dir, "members")),
                       procs=[("metaraft dev", self.proc)])
            self.wait_healthy()
        except RuntimeError:
            log(f"--- metaraft dev log tail:\n{tail(os.path.join(self.dir, '..', 'metaraft-dev.log'))}")
            for i in (1, 2, 3):
                log(f"--- node {i} log tail:\n{tail(os.path.join(self.dir, f'node-{i}.log'))}")
            raise

    def leader(self):
        for i in (1, 2, 3):
            s, b = http(self.addr[i], f"/api/v1/cluster?token={TOKEN}", timeout=1)
            if s == 200:
                j = json.loads(b)
                if j.get("state") == "Leader" and j.get("node_id") == i:
                    return i
        return None

    def wait_healthy(self):
        def ok():
            return all(http(self.addr[i], "/readyz", timeout=1)[0] == 200 for i in (1, 2, 3)) and self.leader()
        wait_until("metaraft nodes ready with a leader", ok, procs=[("metaraft dev", self.proc)])

    def prepare(self):
        ad = self.addr[self.leader()]
        for iid in ("bench-read", "bench-w"):
            s, b = http(ad, f"/MetaService/http/create_instance?token={TOKEN}", create_body(iid))
            if s != 200 or not is_ok_envelope(b):
                raise RuntimeError(f"metaraft: create_instance {iid} failed: {s} {b}")
        s, b = http(ad, f"/MetaService/http/add_cluster?token={TOKEN}", json.dumps({"instance_id": "bench-w", "cluster": {
            "cluster_id": "c0", "cluster_name": "c0", "type": "COMPUTE", "nodes": [], "mysql_user_name": ["u"]}}))
        if s != 200 or not is_ok_envelope(b):
            raise RuntimeError(f"metaraft: add_cluster failed: {s} {b}")

    def pid(self, i):
        pids = dev_node_pids(self.dir)
        p = int(open(os.path.join(self.dir, f"node-{i}.pid")).read().strip())
        if p not in pids:
            raise RuntimeError(f"node-{i}.pid ({p}) is not a running node of {self.dir}")
        return p

    def kill(self, i):
        # `metaraft dev` keeps a node that ends down while node-N.hold exists (and would stop the whole
        # cluster if a node ended without one): hold first, then SIGKILL the node's own process.
        open(os.path.join(self.dir, f"node-{i}.hold"), "w").close()
        pid = self.pid(i)
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 5
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            try:  # a zombie until dev reaps it: killed all the same
                if open(f"/proc/{pid}/stat").read().split(") ")[1].startswith("Z"):
                    break
            except OSError:
                break
            time.sleep(0.001)

    def restart(self, i):
        os.remove(os.path.join(self.dir, f"node-{i}.hold"))
        self.wait_healthy()

    @staticmethod
    def version():
        try:
            rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            return (rev or "?") + ("-dirty" if dirty else "")
        except OSError:
            return "?"

    def fo_write(self, n):
        return f"/MetaService/http/update_cluster_mysql_user_name?token={TOKEN}", json.dumps(
            {"instance_id": "bench-w", "cluster": {"cluster_id": "c0", "mysql_user_name": [f"fo{n}"]}}), \
            lambda s, b: s == 200 and is_ok_envelope(b)

    def stop(self):
        if self.proc:
            stop_proc(self.proc, "dev")


# ---------------------------------------------------------------------------------------------
# wrk

LUA_COMMON = r'''
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  errors = 0
  first_error = ""
  n = 0
end
local bit = require("bit")
local band, rshift, lshift = bit.band, bit.rshift, bit.lshift
local b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local enc = {}
for i = 1, 64 do enc[i - 1] = b64chars:sub(i, i) end
function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = lshift(a, 16) + lshift(b or 0, 8) + (c or 0)
    out[#out + 1] = enc[rshift(v, 18)] .. enc[band(rshift(v, 12), 63)] ..
      (b and enc[band(rshift(v, 6), 63)] or "=") .. (c and enc[band(v, 63)] or "=")
  end
  return table.concat(out)
end
function response(status, headers, body)
  if status ~= 200 or not check(body) then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 200):gsub("\n", " ") end
  end
end
function done(summary, latency, requests)
  local e, first = 0, ""
  for _, t in ipairs(threads) do
    e = e + t:get("errors")
    if first == "" then first = t:get("first_error") end
  end
  io.write(string.format("BENCH_ERRORS %d\n", e))
  if first ~= "" then io.write("BENCH_FIRST_ERROR " .. first .. "\n") end
end
'''

LUA_CHECK_OK = r'''
function check(body) return string.find(string.sub(body, 1, 200), '"code":%s*"OK"') ~= nil end
'''


def lua_check_contains(s):
    return f'function check(body) return string.find(body, {json.dumps(s)}, 1, true) ~= nil end\n'


def lua_post(path_expr, body_expr, run_tag):
    """A request() producing POST path_expr with body_expr; Lua locals: tid, n, tag."""
    return f'''
tag = "{run_tag}"
function request()
  n = n + 1
  local path = {path_expr}
  local body = {body_expr}
  return wrk.format("POST", path, {{["Content-Type"] = "application/json"}}, body)
end
'''


def workload_lua(system, workload, tag):
    """Lua script text for (system, workload)."""
    tq = f"?token={TOKEN}"
    if system == "etcd":
        if workload in ("small write", "write @follower"):
            req = lua_post('"/v3/kv/put"',
                           '\'{"key":"\' .. b64("bench/w/" .. tid .. "/" .. (n % 1024)) .. \'","value":"\' .. b64(string.format("v%015d", n)) .. \'"}\'',
                           tag)
            return LUA_COMMON + lua_check_contains('"header"') + req
        if workload == "create":
            value = create_body("INSTANCE_ID").replace('"', '\\"')
            req = lua_post('"/v3/kv/put"',
                           '\'{"key":"\' .. b64("bench/c/" .. tag .. "/" .. tid .. "/" .. n) .. \'","value":"\' .. '
                           f'b64(string.gsub("{value}", "INSTANCE_ID", tag .. "-" .. tid .. "-" .. n)) .. \'"}}\'',
                           tag)
            return LUA_COMMON + lua_check_contains('"header"') + req
        if workload == "linearizable read":
            body = json.dumps({"key": b64("bench/read")})
            return LUA_COMMON + lua_check_contains('"kvs"') + \
                f'wrk.method = "POST"\nwrk.path = "/v3/kv/range"\nwrk.body = {json.dumps(body)}\n' \
                'wrk.headers["Content-Type"] = "application/json"\n'
    if system == "metaraft":
        if workload in ("small write", "write @follower"):
            req = lua_post(f'"/MetaService/http/update_cluster_mysql_user_name{tq}"',
                           '\'{"instance_id":"bench-w","cluster":{"cluster_id":"c0","mysql_user_name":["u\' .. tag .. "-" .. tid .. "-" .. n .. \'"]}}\'',
                           tag)
            return LUA_COMMON + LUA_CHECK_OK + req
        if workload == "create":
            body = create_body("INSTANCE_ID").replace('"', '\\"')
            req = lua_post(f'"/MetaService/http/create_instance{tq}"',
                           f'string.gsub("{body}", "INSTANCE_ID", "b" .. tag .. "-" .. tid .. "-" .. n)', tag)
            return LUA_COMMON + LUA_CHECK_OK + req
        if workload == "linearizable read":
            return LUA_COMMON + LUA_CHECK_OK + \
                f'wrk.method = "GET"\nwrk.path = "/MetaService/http/get_instance{tq}&instance_id=bench-read"\n'
    if system == "hello":
        return LUA_COMMON + lua_check_contains('"OK"') + 'wrk.method = "GET"\nwrk.path = "/hello"\n'
    raise ValueError((system, workload))


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_ms(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", s.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def run_wrk(tmp, system, workload, addr, clients, duration_s, tag):
    script = os.path.join(tmp, f"{system}-{workload.replace(' ', '_').replace('@', '').replace('.', '')}-{clients}.lua")
    with open(script, "w") as f:
        f.write(workload_lua(system, workload, tag))
    threads = 1 if clients == 1 else min(2, clients)
    cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration_s}s", "--latency", "--timeout", "5s",
           "-s", script, f"http://{addr}"]
    OWN.current_wrk = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = OWN.current_wrk.communicate()
    rc = OWN.current_wrk.returncode
    OWN.current_wrk = None
    with open(script[:-4] + ".out", "w") as f:
        f.write(" ".join(cmd) + "\n" + out)
    r = {"rps": None, "p50": None, "p99": None, "errors": 0, "first_error": "", "non2xx": 0, "socket": "", "raw": out}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s*{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        if m:
            r[key] = parse_ms(m.group(1))
    m = re.search(r"BENCH_ERRORS (\d+)", out)
    r["errors"] = int(m.group(1)) if m else 0
    m = re.search(r"BENCH_FIRST_ERROR (.*)", out)
    r["first_error"] = m.group(1).strip() if m else ""
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors:\s*(.*)", out)
    if m:
        r["socket"] = m.group(1).strip()
        r["errors"] += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
    if rc != 0 or r["rps"] is None:
        r["errors"] = max(r["errors"], 1)
        r["first_error"] = r["first_error"] or f"wrk exited {rc}: {out.strip()[-300:]}"
    flag = " !" if r["errors"] else ""
    log(f"  {system:8} {workload:17} c={clients:<3} {fmt_rps(r['rps']):>8} req/s  p50 {fmt_ms(r['p50']):>7}  "
        f"p99 {fmt_ms(r['p99']):>7}  errors {r['errors']}{flag}" + (f"  first: {r['first_error']}" if r["first_error"] else ""))
    return r


# ---------------------------------------------------------------------------------------------
# failover

def failover(system, rounds, writers_per_member=3, probe_every=0.02):
    """Per round: (gap ms or None, slowest in-flight write at the kill in ms or None)."""
    out = []
    for r in range(rounds):
        system.wait_healthy()
        time.sleep(1.0)  # a restarted member catches up before it matters
        lid = system.leader()
        survivors = [i for i in (1, 2, 3) if i != lid]
        addrs = system.addr if system.name == "metaraft" else system.client
        stop = threading.Event()
        acks = []  # (sent, done, ok)
        counter = [r * 10_000_000]
        lock = threading.Lock()

        def one(conn, ad):
            """One write; returns the connection to reuse (None after an error)."""
            with lock:
                counter[0] += 1
                n = counter[0]
            path, body, ok = system.fo_write(n)
            t0 = time.time()
            try:
                if conn is None:
                    host, port = ad.split(":")
                    conn = HTTPConnection(host, int(port), timeout=10)
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                good = ok(resp.status, resp.read().decode(errors="replace"))
            except Exception:
                good = False
                if conn:
                    conn.close()
                conn = None
            acks.append((t0, time.time(), good))
            if not good:
                time.sleep(0.005)  # no busy loop on fast refusals while there is no leader
            return conn

        def writer(ad):  # the steady load: keep-alive, closed loop
            conn = None
            while not stop.is_set():
                conn = one(conn, ad)
            if conn:
                conn.close()

        def one_shot(ad):
            conn = one(None, ad)
            if conn:
                conn.close()

        def prober():
            # Open loop from the kill on: a fresh one-shot write every probe_every s, whatever is still
            # outstanding, so the measured gap is when the cluster accepts new writes again and not when
            # a client stuck on a request sent into the dead leader gives up (etcd: up to ~7 s).
            k = 0
            while not stop.is_set():
                if threading.active_count() < 400:
                    threading.Thread(target=one_shot, args=(addrs[survivors[k % 2]],), daemon=True).start()
                k += 1
                time.sleep(probe_every)

        ths = [threading.Thread(target=writer, args=(addrs[i],), daemon=True) for i in survivors
               for _ in range(writers_per_member)]
        for t in ths:
            t.start()
        time.sleep(1.0)
        before = sum(1 for s, d, ok in list(acks) if ok)
        t_kill = time.time()
        system.kill(lid)
        pt = threading.Thread(target=prober, daemon=True)
        pt.start()
        while time.time() < t_kill + 30 and not any(s > t_kill and ok for s, _, ok in list(acks)):
            time.sleep(0.002)
        stop.set()
        pt.join()
        for t in ths:
            t.join(12)
        deadline = time.time() + 12  # let the one-shot probes finish
        while threading.active_count() > 1 and time.time() < deadline:
            time.sleep(0.05)
        snap = list(acks)
        done = [d for s, d, ok in snap if s > t_kill and ok]
        stuck = [d - t_kill for s, d, ok in snap if s <= t_kill < d]
        stall = 1000 * max(stuck) if stuck else None
        stall_txt = f"; writes in flight at the kill finished (ok or not) up to {stall:.0f} ms after it" if stall else ""
        if not done:
            log(f"  {system.name} failover round {r + 1}: no write acknowledged within 30 s of the kill{stall_txt}")
            out.append((None, stall))
        else:
            gap = 1000 * (min(done) - t_kill)
            out.append((gap, stall))
            log(f"  {system.name} failover round {r + 1}: killed leader {lid} ({before} writes acked in the second "
                f"before); first write sent after the kill acknowledged {gap:.0f} ms after it{stall_txt}")
        system.restart(lid)
    return out


# ---------------------------------------------------------------------------------------------
# output

def fmt_rps(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_ms(v):
    if v is None:
        return "–"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def machine_info(etcd_version, wrk_version, rev, a, duration_s, clients):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return [
        f"nproc {os.cpu_count()}, CPU {cpu}, RAM {mem}, kernel {os.uname().release}",
        f"{etcd_version}; {wrk_version}; metaraft git {rev}",
        f"wrk -t2 (-t1 for 1 client) --latency --timeout 5s, {duration_s:g} s per cell, clients {','.join(map(str, clients))}; "
        f"everything (3 etcd, 3 metaraft nodes, wrk) on this one machine, one system running at a time",
    ]


def render(results, hello, fo, info, clients, serve_flags, etcd_flags, plain):
    """results[(workload, clients)] = {"etcd": r, "metaraft": r}; returns the text (plain) or Markdown."""
    head = ["workload", "clients", "etcd req/s", "etcd p50 ms", "etcd p99 ms",
            "metaraft req/s", "metaraft p50 ms", "metaraft p99 ms", "ratio"]
    rows = []
    for (w, c), d in results.items():
        e, m = d.get("etcd"), d.get("metaraft")

        def cells(r):
            if not r:
                return ["–", "–", "–"]
            return [fmt_rps(r["rps"]) + (" !" if r["errors"] else ""), fmt_ms(r["p50"]), fmt_ms(r["p99"])]
        ratio = "–"
        if e and m and e["rps"] and m["rps"]:
            ratio = f"{m['rps'] / e['rps']:.2f}"
        rows.append([w, str(c), *cells(e), *cells(m), ratio])
    hrows = []
    for c in clients:
        h = hello.get(c)
        if not h:
            continue
        frac = []
        for w in ("small write", "linearizable read"):
            m = results.get((w, c), {}).get("metaraft")
            frac.append(f"{100 * m['rps'] / h['rps']:.1f}%" if m and m["rps"] and h["rps"] else "–")
        hrows.append(["bare HTTP", str(c), fmt_rps(h["rps"]) + (" !" if h["errors"] else ""), fmt_ms(h["p50"]),
                      fmt_ms(h["p99"]), *frac])
    hhead = ["ceiling", "clients", "hello req/s", "p50 ms", "p99 ms", "metaraft write / bare", "metaraft read / bare"]

    errs = []
    for (w, c), d in results.items():
        for s, r in d.items():
            if r and r["errors"]:
                errs.append(f"{s} {w} c={c}: {r['errors']} errors (non-2xx {r['non2xx']}, socket: {r['socket'] or '-'})"
                            + (f"; first: {r['first_error']}" if r["first_error"] else ""))
    for c, h in hello.items():
        if h["errors"]:
            errs.append(f"hello c={c}: {h['errors']} errors; first: {h['first_error']}")

    fol = []
    for s, rs in fo.items():
        good = [g for g, _ in rs if g is not None]
        stalls = [st for _, st in rs if st is not None]
        timing = ETCD_TIMING if s == "etcd" else METARAFT_TIMING
        if s == "etcd" and etcd_flags:
            timing = "etcd flags: " + " ".join(etcd_flags)
        if s == "metaraft" and serve_flags:
            timing = "metaraft serve flags: " + " ".join(serve_flags)
        if good:
            fol.append(f"{s} failover (SIGKILL leader -> first acknowledged write sent after the kill): median "
                       f"{statistics.median(good):.0f} ms, min {min(good):.0f}, max {max(good):.0f} over {len(good)} rounds"
                       + (f", {len(rs) - len(good)} round(s) without a write in 30 s" if len(good) < len(rs) else "")
                       + (f"; writes in flight at the kill hung up to {max(stalls):,.0f} ms" if stalls else "")
                       + f" ({timing})")
        elif rs:
            fol.append(f"{s} failover: no round saw an acknowledged write within 30 s ({timing})")

    out = []
    if plain:
        def table(h, rs):
            w = [max(len(x[i]) for x in [h] + rs) for i in range(len(h))]
            line = lambda r: "  ".join(x.ljust(w[i]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
            return [line(h), "  ".join("-" * x for x in w)] + [line(r) for r in rs]
        out += table(head, rows)
        if hrows:
            out += [""] + table(hhead, hrows)
        if fol:
            out += [""] + fol
        if errs:
            out += ["", "rows marked ! had errors:"] + ["  " + e for e in errs]
        out += [""] + info
    else:
        def table(h, rs):
            return ["| " + " | ".join(h) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(h))) + "|"] + \
                ["| " + " | ".join(r) + " |" for r in rs]
        out += ["# metaraft vs etcd", "", "## Machine", ""] + [f"- {x}" for x in info] + ["", "## Throughput and latency", ""]
        out += table(head, rows)
        if hrows:
            out += ["", "## Bare HTTP ceiling", ""] + table(hhead, hrows)
        if fol:
            out += ["", "## Failover", ""] + [f"- {x}" for x in fol]
        if errs:
            out += ["", "## Errors (rows marked !)", ""] + [f"- {x}" for x in errs]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------

def parse_duration(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {s!r} (e.g. 10s, 1m)")
    v = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]
    return max(1, int(round(v)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Extra `metaraft serve` flags go after `--`.")
    ap.add_argument("--duration", type=parse_duration, default=None, help="per cell (default 10s; 2s with --quick)")
    ap.add_argument("--clients", default=None, help="comma-separated wrk connection counts (default 1,16,64; 1,16 with --quick)")
    ap.add_argument("--quick", action="store_true", help="2 s per cell, clients 1,16, 1 failover round unless given")
    ap.add_argument("--failover-rounds", type=int, default=None, help="default 3 (1 with --quick); 0 skips failover")
    ap.add_argument("--workloads", default="small write,create,linearizable read,write @follower",
                    help="comma-separated subset of the rows")
    ap.add_argument("--systems", default="etcd,metaraft,hello", help="comma-separated subset of etcd,metaraft,hello")
    ap.add_argument("--markdown", metavar="FILE", help="also write the results as Markdown")
    ap.add_argument("--binary", help="metaraft binary (default $METARAFT_TARGET_DIR or ./target, /release/metaraft)")
    ap.add_argument("--hello-binary", help="bare server binary (default .../release/examples/hello)")
    ap.add_argument("--build", action="store_true", help="run cargo build --release even if the binaries exist")
    ap.add_argument("--etcd-flag", action="append", default=[], metavar="FLAG",
                    help="extra etcd flag, repeatable, e.g. --etcd-flag=--election-timeout=300")
    ap.add_argument("serve_flags", nargs="*", help="extra `metaraft serve` flags (after --)")
    a = ap.parse_args()
    duration_s = a.duration or (2 if a.quick else 10)
    clients = [int(c) for c in (a.clients or ("1,16" if a.quick else "1,16,64")).split(",") if c.strip()]
    rounds = a.failover_rounds if a.failover_rounds is not None else (1 if a.quick else 3)
    workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for w in workloads:
        if w not in ("small write", "create", "linearizable read", "write @follower"):
            sys.exit(f"unknown workload {w!r}")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        ensure_tools()
        mr_bin, hello_bin = ensure_binaries(a, systems)
        OWN.tmp = os.path.realpath(tempfile.mkdtemp(prefix="metaraft-compare-"))
        log(f"work dir {OWN.tmp}; {duration_s} s per cell, clients {clients}, failover rounds {rounds}")
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" Copyright")[0].strip() or "wrk ?"
        etcd_version = "etcd " + subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0].replace("etcd Version: ", "")
        results = {(w, c): {} for w in workloads for c in clients}
        hello, fo = {}, {}
        run_id = f"{random.randrange(1 << 20):x}"

        for name in ("etcd", "metaraft"):
            if name not in systems:
                continue
            sysobj = Etcd(OWN.tmp, a.etcd_flag) if name == "etcd" else Metaraft(OWN.tmp, mr_bin, a.serve_flags)
            log(f"\n== {name}: starting a fresh 3-node cluster")
            sysobj.start_all()
            sysobj.prepare()
            addrs = sysobj.client if name == "etcd" else sysobj.addr
            log(f"{name}: members {', '.join(addrs.values())}")
            for w in workloads:
                for c in clients:
                    lid = sysobj.leader()
                    if lid is None:
                        sysobj.wait_healthy()
                        lid = sysobj.leader()
                    target = addrs[lid] if w != "write @follower" else addrs[[i for i in (1, 2, 3) if i != lid][0]]
                    tag = f"{run_id}{len(w)}{c}"
                    results[(w, c)][name] = run_wrk(OWN.tmp, name, w, target, c, duration_s, tag)
            if rounds > 0:
                log(f"{name}: failover, {rounds} round(s)")
                fo[name] = failover(sysobj, rounds)
            log(f"{name}: stopping")
            sysobj.stop()

        if "hello" in systems:
            port = free_ports(1)[0]
            log(f"\n== bare HTTP: {hello_bin} on 127.0.0.1:{port}")
            out = open(os.path.join(OWN.tmp, "hello.log"), "a")
            p = OWN.add("hello", subprocess.Popen([hello_bin, str(port)], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                                  start_new_session=True))
            wait_until("hello server", lambda: http(f"127.0.0.1:{port}", "/hello", timeout=1)[0] == 200, procs=[("hello", p)])
            for c in clients:
                hello[c] = run_wrk(OWN.tmp, "hello", "bare HTTP", f"127.0.0.1:{port}", c, duration_s, "h")
            stop_proc(p, "plain")

        info = machine_info(etcd_version, wrk_version, Metaraft.version(), a, duration_s, clients)
        log("\n" + render(results, hello, fo, info, clients, a.serve_flags, a.etcd_flag, plain=True))
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(render(results, hello, fo, info, clients, a.serve_flags, a.etcd_flag, plain=False))
            log(f"wrote {a.markdown}")
    except KeyboardInterrupt as e:
        log(f"\ninterrupted ({e}); cleaning up")
        return 130
    except RuntimeError as e:
        log(f"\nerror: {e}; cleaning up")
        return 1
    finally:
        OWN.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
