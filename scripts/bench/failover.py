#!/usr/bin/env python3
"""Failover time: start a fresh three-node metaraft cluster on loopback, keep writes flowing through
the followers, SIGKILL the leader, and measure the gap until the first write *sent after the kill*
is acknowledged. The killed node is restarted and the next round kills the new leader.

    scripts/bench/failover.py [--bin target/release/metaraft] [--rounds 5] [--base-port 7400]
                              [-- extra serve flags, e.g. --heartbeat-ms 50 --election-timeout-ms 150,300]

Touches only the processes it starts (in a temp dir it removes at the end)."""
import argparse, json, os, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request, uuid

TOKEN = "bench-token"

def call(addr, path, body=None, timeout=5):
    req = urllib.request.Request(f"http://{addr}{path}", data=body.encode() if body else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:
        return None, str(e)

def create_body(i):
    return json.dumps({"instance_id": f"fo-{i}", "name": "n", "user_id": "u", "vault": {"obj_info": {
        "ak": "a", "sk": "s", "bucket": "b", "prefix": "p", "endpoint": "e", "external_endpoint": "e",
        "region": "r", "provider": "S3"}}})

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/metaraft")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--base-port", type=int, default=7400)
    ap.add_argument("serve_flags", nargs="*")
    a = ap.parse_args()
    addrs = {i: f"127.0.0.1:{a.base_port + i - 1}" for i in (1, 2, 3)}
    peers = ",".join(f"{i}={ad}" for i, ad in addrs.items())
    tmp = tempfile.mkdtemp(prefix="metaraft-failover-")
    procs = {}

    def start(i):
        log = open(os.path.join(tmp, f"node{i}.log"), "a")
        procs[i] = subprocess.Popen([a.bin, "serve", "--node-id", str(i), "--listen", addrs[i], "--peers", peers,
                                     "--data-dir", os.path.join(tmp, f"node{i}"), "--token", TOKEN,
                                     "--cluster-secret", "bench-secret", *a.serve_flags], stdout=log, stderr=log)

    def leader():
        for i, ad in addrs.items():
            s, b = call(ad, f"/api/v1/cluster?token={TOKEN}", timeout=1)
            if s == 200 and json.loads(b)["state"] == "Leader":
                return i
        return None

    def wait_ready():
        deadline = time.time() + 30
        while time.time() < deadline:
            if all(call(ad, "/readyz", timeout=1)[0] == 200 for ad in addrs.values()) and leader():
                return
            time.sleep(0.05)
        sys.exit("cluster not ready in 30 s")

    gaps = []
    try:
        for i in addrs:
            start(i)
        for r in range(a.rounds):
            wait_ready()
            lid = leader()
            stop = threading.Event()
            acks = []  # (sent, done, ok)

            def writer(ad):
                while not stop.is_set():
                    t0 = time.time()
                    s, _ = call(ad, f"/MetaService/http/create_instance?token={TOKEN}", create_body(uuid.uuid4().hex), 10)
                    acks.append((t0, time.time(), s == 200))
            ths = [threading.Thread(target=writer, args=(ad,), daemon=True) for i, ad in addrs.items() if i != lid for _ in range(2)]
            for t in ths:
                t.start()
            time.sleep(1.0)
            t_kill = time.time()
            procs[lid].send_signal(signal.SIGKILL)
            procs[lid].wait()
            while time.time() < t_kill + 15 and not any(s > t_kill and ok for s, _, ok in list(acks)):
                time.sleep(0.002)
            stop.set()
            for t in ths:
                t.join()
            done = [d for s, d, ok in acks if s > t_kill and ok]
            if not done:
                sys.exit(f"round {r}: no write acknowledged within 15 s of the kill")
            gap = 1000 * (min(done) - t_kill)
            gaps.append(gap)
            print(f"round {r + 1}: killed leader {lid}; first acknowledged write {gap:.0f} ms after the kill")
            start(lid)
        print(f"failover (SIGKILL leader -> first acknowledged write): median {statistics.median(gaps):.0f} ms, "
              f"min {min(gaps):.0f}, max {max(gaps):.0f} over {len(gaps)} rounds")
    finally:
        for p in procs.values():
            p.kill()
        subprocess.run(["rm", "-rf", tmp])

main()
