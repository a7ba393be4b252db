"""Write ``matcher/core/zh_required.txt``: for every entry of zhconv's zh-cn table that changes
text, one character of its key, chosen as the rarest in the bundled occupation texts.

A text holding none of these characters contains no changing key, so zhconv's conversion leaves
it as it is: ``matcher.core.textnorm`` then skips the conversion (a pure-Python scan of every
character, the largest cost of reading records). The choice of character only decides how often
the conversion is skipped, never its result; ``tests/core/test_textnorm.py`` checks that every
changing key holds a listed character under the installed zhconv.

    python -m scripts.build_zh_required
"""

from __future__ import annotations

import collections
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "matcher" / "core" / "zh_required.txt"


def main() -> None:
    import zhconv.zhconv as z

    table = z.getdict("zh-cn")
    freq: collections.Counter[str] = collections.Counter()
    with (ROOT / "data" / "csco22_occupations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for value in row.values():
                freq.update(value or "")
    required = {min(key, key=lambda c: (freq[c], c)) for key, value in table.items() if key != value}
    OUT.write_text("".join(sorted(required)) + "\n", encoding="utf-8")
    print(f"{len(required)} characters -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
