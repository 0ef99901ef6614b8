"""Reads the raw sample files the benchmark scripts write: one `name value unit` line per sample
(`go.X` and `blood.X` pairs), `#` lines kept as a header, `# skip …` lines as skip notes.
Shared by runtime/compare.py and concurrency/compare.py."""
from collections import OrderedDict


def read(path):
    """Returns (samples: name -> [values] in file order, units: name -> unit, header lines,
    skip notes)."""
    samples, units, header, skips = OrderedDict(), {}, [], []
    for line in open(path):
        if line.startswith("# skip"):
            skips.append(line[len("# skip"):].strip())
            continue
        if line.startswith("#"):
            header.append(line.rstrip())
            continue
        p = line.split()
        if len(p) != 3:
            continue
        try:
            v = float(p[1])
        except ValueError:
            continue
        samples.setdefault(p[0], []).append(v)
        units[p[0]] = p[2]
    return samples, units, header, skips
