#!/usr/bin/python3
"""metrics.py - scrape mailwarden's Prometheus listener and check what it says.

  metrics.py status URL [METHOD]       print the HTTP status code of a request
  metrics.py fetch URL                 print the body of GET URL
  metrics.py check URL                 fetch, parse strictly (text format 0.0.4), print
                                       "ok N families M samples" or the first error (exit 1)
  metrics.py get URL SERIES            print the value of one series, e.g.
                                       'mailwarden_messages_total{action="reject",direction="inbound"}'
                                       (labels in any order; "absent" when there is none)
  metrics.py dashboard FILE URL        the Grafana dashboard parses as JSON, has panels with
                                       queries, and every metric name in them is served at URL
  metrics.py parse-file FILE           as check, on a file (for the parser's own tests)

The parser is strict on purpose: HELP and TYPE once per family and before its samples, a
family's samples together, valid metric and label names, escaped label values, no duplicate
series, float values, counters named *_total, histogram buckets cumulative with +Inf equal to
_count. Only the standard library; /usr/bin/python3.
"""
import json
import re
import sys
import urllib.error
import urllib.request

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*$')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*$')
CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'


class ParseError(Exception):
    pass


def fetch(url, method='GET'):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get('Content-Type'), r.read().decode('utf-8')
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type'), e.read().decode('utf-8', 'replace')


def parse_labels(text, lineno):
    """'a="x",b="y\\"z"' -> (('a','x'),('b','y"z')); strict about escapes and commas."""
    labels = []
    i = 0
    while i < len(text):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', text[i:])
        if not m:
            raise ParseError(f'line {lineno}: bad label at "{text[i:]}"')
        name = m.group(1)
        i += m.end()
        value = []
        while True:
            if i >= len(text):
                raise ParseError(f'line {lineno}: unterminated label value')
            c = text[i]
            if c == '\\':
                nxt = text[i + 1:i + 2]
                if nxt not in ('\\', '"', 'n'):
                    raise ParseError(f'line {lineno}: bad escape \\{nxt}')
                value.append('\n' if nxt == 'n' else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ParseError(f'line {lineno}: raw newline in a label value')
            else:
                value.append(c)
                i += 1
        if any(n == name for n, _ in labels):
            raise ParseError(f'line {lineno}: label {name} twice')
        labels.append((name, ''.join(value)))
        if i < len(text):
            if text[i] != ',':
                raise ParseError(f'line {lineno}: expected "," after label {name}')
            i += 1
    return tuple(labels)


def family_of(sample_name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if types.get(base) == 'histogram':
                return base
    return sample_name


def parse(text):
    """Returns {family: {'type':..., 'samples': {(name, labels): value}}}."""
    if not text.endswith('\n'):
        raise ParseError('the text does not end with a newline')
    families = {}
    types, helps = {}, {}
    done = set()          # families whose samples are over
    current = None
    for lineno, line in enumerate(text.split('\n')[:-1], 1):
        if line == '':
            raise ParseError(f'line {lineno}: empty line')
        if line.startswith('#'):
            m = re.match(r'# (HELP|TYPE) (\S+) (.*)$', line)
            if not m:
                raise ParseError(f'line {lineno}: a comment that is neither HELP nor TYPE: {line}')
            kind, name, rest = m.groups()
            if not NAME.match(name):
                raise ParseError(f'line {lineno}: bad metric name {name}')
            if name in done or (name in families and families[name]['samples']):
                raise ParseError(f'line {lineno}: {kind} for {name} after its samples')
            table = helps if kind == 'HELP' else types
            if name in table:
                raise ParseError(f'line {lineno}: second {kind} for {name}')
            if kind == 'TYPE' and rest not in ('counter', 'gauge', 'histogram', 'summary', 'untyped'):
                raise ParseError(f'line {lineno}: unknown type {rest}')
            table[name] = rest
            families.setdefault(name, {'type': None, 'samples': {}})
            if kind == 'TYPE':
                families[name]['type'] = rest
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            raise ParseError(f'line {lineno}: not a sample: {line}')
        name, label_text, value = m.groups()
        labels = parse_labels(label_text or '', lineno)
        try:
            number = float(value)
        except ValueError:
            raise ParseError(f'line {lineno}: value {value} is not a number')
        family = family_of(name, types)
        if family in done:
            raise ParseError(f'line {lineno}: samples of {family} are not together')
        if current is not None and current != family:
            done.add(current)
        current = family
        fam = families.setdefault(family, {'type': None, 'samples': {}})
        key = (name, tuple(sorted(labels)))
        if key in fam['samples']:
            raise ParseError(f'line {lineno}: duplicate series {line}')
        fam['samples'][key] = number
    for name, fam in families.items():
        if fam['type'] == 'counter' and not name.endswith('_total'):
            raise ParseError(f'counter {name} does not end in _total')
        if fam['type'] == 'counter' and any(v < 0 for v in fam['samples'].values()):
            raise ParseError(f'counter {name} is negative')
        if fam['type'] == 'histogram':
            check_histogram(name, fam['samples'])
    return families


def check_histogram(name, samples):
    series = {}
    for (sname, labels), value in samples.items():
        rest = tuple(l for l in labels if l[0] != 'le')
        entry = series.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        if sname == name + '_bucket':
            le = dict(labels).get('le')
            if le is None:
                raise ParseError(f'{name}: a bucket without le')
            entry['buckets'].append((float(le), value))
        elif sname == name + '_sum':
            entry['sum'] = value
        elif sname == name + '_count':
            entry['count'] = value
    for rest, e in series.items():
        buckets = sorted(e['buckets'])
        if not buckets or buckets[-1][0] != float('inf'):
            raise ParseError(f'{name}{dict(rest)}: no +Inf bucket')
        counts = [c for _, c in buckets]
        if counts != sorted(counts):
            raise ParseError(f'{name}{dict(rest)}: buckets are not cumulative: {counts}')
        if e['count'] is None or e['sum'] is None:
            raise ParseError(f'{name}{dict(rest)}: no _sum or _count')
        if e['count'] != buckets[-1][1]:
            raise ParseError(f'{name}{dict(rest)}: _count {e["count"]} != +Inf bucket {buckets[-1][1]}')


def sample_names(families):
    names = set(families)
    for fam in families.values():
        names.update(n for n, _ in fam['samples'])
    return names


def cmd_check(url):
    status, ctype, text = fetch(url)
    if status != 200:
        raise ParseError(f'HTTP status {status}')
    if ctype != CONTENT_TYPE:
        raise ParseError(f'Content-Type is "{ctype}", not "{CONTENT_TYPE}"')
    families = parse(text)
    n = sum(len(f['samples']) for f in families.values())
    print(f'ok {len(families)} families {n} samples')


def cmd_get(url, series):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$', series)
    name, label_text = m.groups()
    key = (name, tuple(sorted(parse_labels(label_text or '', 0))))
    status, _, text = fetch(url)
    if status != 200:
        raise ParseError(f'HTTP status {status}')
    for fam in parse(text).values():
        if key in fam['samples']:
            value = fam['samples'][key]
            print(int(value) if value == int(value) else value)
            return
    print('absent')


def dashboard_exprs(dashboard):
    exprs = []
    panels = list(dashboard.get('panels', []))
    while panels:
        p = panels.pop()
        panels.extend(p.get('panels', []))
        for t in p.get('targets', []):
            if 'expr' in t:
                exprs.append((p.get('title', '?'), t['expr']))
    return exprs


PROMQL_WORDS = {'sum', 'rate', 'irate', 'increase', 'by', 'without', 'histogram_quantile', 'topk',
                'bottomk', 'avg', 'max', 'min', 'count', 'le', 'time', 'on', 'ignoring',
                'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'delta', 'deriv',
                'label_replace', 'vector', 'scalar', 'clamp_min', 'clamp_max', 'abs', 'sort_desc'}


def cmd_dashboard(path, url):
    with open(path) as f:
        dashboard = json.load(f)
    for key in ('title', 'panels', 'schemaVersion', 'uid'):
        if key not in dashboard:
            raise ParseError(f'{path}: no "{key}"')
    exprs = dashboard_exprs(dashboard)
    if not exprs:
        raise ParseError(f'{path}: no panel has a query')
    status, _, text = fetch(url)
    served = sample_names(parse(text))
    used = set()
    for title, expr in exprs:
        # strip label matchers and strings, then take the identifiers that name metrics
        bare = re.sub(r'\{[^}]*\}', '', re.sub(r'"[^"]*"', '', expr))
        bare = re.sub(r'\[[^\]]*\]', '', bare)
        for word in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', bare):
            if word in PROMQL_WORDS or word.startswith('$'):
                continue
            if word.startswith('mailwarden_') or word.startswith('process_'):
                used.add(word)
                if word not in served:
                    raise ParseError(f'panel "{title}": {word} is not served at {url}')
    print(f'ok {len(exprs)} queries, metrics used: {" ".join(sorted(used))}')


def main(argv):
    try:
        if argv[1] == 'status':
            print(fetch(argv[2], argv[3] if len(argv) > 3 else 'GET')[0])
        elif argv[1] == 'fetch':
            sys.stdout.write(fetch(argv[2])[2])
        elif argv[1] == 'check':
            cmd_check(argv[2])
        elif argv[1] == 'get':
            cmd_get(argv[2], argv[3])
        elif argv[1] == 'dashboard':
            cmd_dashboard(argv[2], argv[3])
        elif argv[1] == 'parse-file':
            with open(argv[2]) as f:
                families = parse(f.read())
            print(f'ok {len(families)} families')
        else:
            print(__doc__, file=sys.stderr)
            return 64
    except (ParseError, OSError, ValueError) as e:
        print(f'error: {e}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
