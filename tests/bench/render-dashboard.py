#!/usr/bin/python3
"""render-dashboard.py - a picture of the Grafana dashboard made from a real daemon, without
Grafana: scrapes mailwarden's /metrics every second while a load command runs, then draws each
panel of packaging/grafana/mailwarden-dashboard.json (same titles, same order and layout, the
same computation as its PromQL: per-second rates between scrapes, top 10 symbols, p50/p99 by
histogram_quantile's linear interpolation within buckets, increase over the range, gauges) into
one PNG with matplotlib (Debian's python3-matplotlib, /usr/bin/python3).

  render-dashboard.py --url http://127.0.0.1:9466/metrics --out docs/metrics-dashboard.png \\
      --during 'tests/bench/mwload -s unix:/run/mailwarden/mw.sock -c 8 -n 100000' [--tail 3]

Every panel of the dashboard must have a renderer here (the script stops otherwise), so the
picture and the dashboard cannot drift apart silently.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration', 'helpers'))
import metrics  # noqa: E402  (the strict parser of t-daemon-metrics.sh)

DASHBOARD = os.path.join(HERE, '..', '..', 'packaging', 'grafana', 'mailwarden-dashboard.json')


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        families = metrics.parse(r.read().decode('utf-8'))
    samples = {}
    for fam in families.values():
        samples.update(fam['samples'])
    return samples


def series(scrapes, name, group_by):
    """{group: [(t, value)]} summing the samples of name by the labels in group_by."""
    out = {}
    for t, samples in scrapes:
        sums = {}
        for (n, labels), v in samples.items():
            if n != name:
                continue
            d = dict(labels)
            key = tuple(d.get(g, '') for g in group_by)
            sums[key] = sums.get(key, 0.0) + v
        for key, v in sums.items():
            out.setdefault(key, []).append((t, v))
    return out


def rates(points):
    return [(t1, max(0.0, (v1 - v0) / (t1 - t0))) for (t0, v0), (t1, v1) in zip(points, points[1:])
            if t1 > t0]


def rate_panel(scrapes, name, group_by, fmt):
    return {fmt.format(*k) if k else fmt: rates(p) for k, p in series(scrapes, name, group_by).items()}


def quantile(q, buckets):
    """histogram_quantile over [(le, cumulative count)], as Prometheus interpolates."""
    buckets = sorted(buckets)
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float('inf'):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return prev_le


def quantile_panel(scrapes, q):
    out = {}
    for (t0, s0), (t1, s1) in zip(scrapes, scrapes[1:]):
        per_check = {}
        for (n, labels), v in s1.items():
            if n != 'mailwarden_check_duration_seconds_bucket':
                continue
            d = dict(labels)
            delta = v - s0.get((n, labels), 0.0)
            per_check.setdefault(d['check'], []).append((float(d['le']), delta))
        for check, buckets in per_check.items():
            value = quantile(q, buckets)
            if value is not None:
                out.setdefault(check, []).append((t1, value))
    return out


def topk(panel, k):
    ranked = sorted(panel.items(), key=lambda kv: -sum(v for _, v in kv[1]))
    return dict(ranked[:k])


def gauge(scrapes, name, label):
    return {label: [(t, v) for t, v in series(scrapes, name, ())[()]]} if series(scrapes, name, ()) else {}


def increase_panel(scrapes, name, group_by):
    out = {}
    for k, points in series(scrapes, name, group_by).items():
        first = points[0][1]
        out[k[0]] = [(t, v - first) for t, v in points]
    return out


RENDERERS = {
    'Messages by action': lambda s: rate_panel(s, 'mailwarden_messages_total', ('action',), '{}'),
    'Messages by direction': lambda s: rate_panel(s, 'mailwarden_messages_total', ('direction',), '{}'),
    'Symbol hits, top 10': lambda s: topk(rate_panel(s, 'mailwarden_symbol_hits_total', ('symbol',), '{}'), 10),
    'Shadow symbol hits, top 10': lambda s: topk(rate_panel(s, 'mailwarden_shadow_symbol_hits_total', ('symbol',), '{}'), 10),
    'Check latency p50': lambda s: quantile_panel(s, 0.5),
    'Check latency p99': lambda s: quantile_panel(s, 0.99),
    'DNS queries, timeouts, SERVFAIL': lambda s: {
        **rate_panel(s, 'mailwarden_dns_queries_total', (), 'queries'),
        **rate_panel(s, 'mailwarden_dns_timeouts_total', (), 'timeouts'),
        **rate_panel(s, 'mailwarden_dns_servfail_total', (), 'servfail'),
        **rate_panel(s, 'mailwarden_dns_answers_within_1ms_total', (), 'answers within 1 ms')},
    'Store operations and errors': lambda s: {
        **rate_panel(s, 'mailwarden_store_operations_total', ('backend', 'op'), '{} {}'),
        **rate_panel(s, 'mailwarden_store_errors_total', ('backend',), '{} errors')},
    'Rate-limit and greylist decisions': lambda s: {
        **rate_panel(s, 'mailwarden_ratelimit_decisions_total', ('decision',), 'ratelimit {}'),
        **rate_panel(s, 'mailwarden_greylist_decisions_total', ('decision',), 'greylist {}')},
    'Reloads': lambda s: increase_panel(s, 'mailwarden_reloads_total', ('outcome',)),
    'Connections and transactions': lambda s: {
        **gauge(s, 'mailwarden_connections_open', 'connections open'),
        **gauge(s, 'mailwarden_transactions_in_flight', 'transactions in flight'),
        **rate_panel(s, 'mailwarden_connections_total', (), 'new connections/s')},
    'Milter protocol errors': lambda s: rate_panel(s, 'mailwarden_protocol_errors_total', (), 'errors/s'),
}
UNITS = {'ops': 'per second', 'reqps': 'per second', 's': 'seconds', 'short': ''}


def render(dashboard, scrapes, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = sorted(dashboard['panels'], key=lambda p: (p['gridPos']['y'], p['gridPos']['x']))
    missing = [p['title'] for p in panels if p['title'] not in RENDERERS]
    if missing:
        sys.exit(f'no renderer for the dashboard panels {missing}: add them to {__file__}')
    rows = max(p['gridPos']['y'] + p['gridPos']['h'] for p in panels) // 8
    plt.style.use('dark_background')
    fig = plt.figure(figsize=(16, 3.2 * rows), layout='constrained')
    grid = fig.add_gridspec(rows, 24)
    t0 = scrapes[0][0]
    for p in panels:
        g = p['gridPos']
        ax = fig.add_subplot(grid[g['y'] // 8:(g['y'] + g['h']) // 8, g['x']:g['x'] + g['w']])
        data = RENDERERS[p['title']](scrapes)
        for label, points in sorted(data.items()):
            if points:
                ax.plot([t - t0 for t, _ in points], [v for _, v in points], label=label, linewidth=1.2)
        ax.set_title(p['title'], fontsize=10, loc='left')
        ax.set_xlabel('seconds', fontsize=8)
        ax.set_ylabel(UNITS.get(p['fieldConfig']['defaults'].get('unit'), ''), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.2)
        if data:
            ax.legend(fontsize=6, loc='upper left', ncol=2)
        else:
            ax.text(0.5, 0.5, 'no data', ha='center', va='center', transform=ax.transAxes)
    fig.suptitle(f'{dashboard["title"]} (rendered from {len(scrapes)} scrapes of a real daemon, '
                 f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0))})', fontsize=12)
    fig.savefig(out, dpi=80)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--url', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--during', required=True, help='the load command (run with sh -c)')
    ap.add_argument('--tail', type=float, default=3, help='seconds to keep scraping after it')
    ap.add_argument('--dashboard', default=DASHBOARD)
    a = ap.parse_args()
    with open(a.dashboard) as f:
        dashboard = json.load(f)
    scrapes = [(time.time(), scrape(a.url))]
    load = subprocess.Popen(['sh', '-c', a.during])
    end = None
    while end is None or time.time() < end:
        time.sleep(1)
        scrapes.append((time.time(), scrape(a.url)))
        if end is None and load.poll() is not None:
            end = time.time() + a.tail
    if load.returncode != 0:
        sys.exit(f'the load command exited {load.returncode}')
    render(dashboard, scrapes, a.out)
    print(f'{a.out}: {len(scrapes)} scrapes, {len(dashboard["panels"])} panels')


if __name__ == '__main__':
    main()
