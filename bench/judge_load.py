"""Coding-judge throughput: submissions per second through the local bubblewrap sandbox.

Each submission is an a+b program with ``--tests`` tests (so one compile sandbox, where the
language has a compile step, and one sandbox per test). ``--submissions`` of them are sent at
``--concurrency``; the judge runs at most ``--max-parallel`` sandboxes at once (default: the CPU
count, as in production). Prints one Markdown row per language:

    .venv/bin/python bench/judge_load.py --submissions 40 --tests 3 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.judge.backend import RunRequest, TestSpec, Verdict  # noqa: E402
from plugins.judge.local import LocalJudge  # noqa: E402
from plugins.judge.sandbox.config import LocalSandboxConfig  # noqa: E402

SOURCES = {
    "python": "a, b = map(int, input().split())\nprint(a + b)\n",
    "c": '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);'
    'printf("%ld\\n",a+b);return 0;}\n',
    "cpp": "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}\n",
    "javascript": "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/)"
    ".map(Number);\nconsole.log(a + b);\n",
}


def request(language: str, tests: int, seed: int) -> RunRequest:
    specs = [
        TestSpec(name=f"t{i}", input=f"{seed} {i}\n", expected=f"{seed + i}\n")
        for i in range(tests)
    ]
    return RunRequest(language=language, source=SOURCES[language], tests=specs)


async def bench(judge: LocalJudge, language: str, args: argparse.Namespace) -> str:
    gate = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []
    bad = 0

    async def one(seed: int) -> None:
        nonlocal bad
        async with gate:
            began = time.perf_counter()
            result = await judge.run(request(language, args.tests, seed))
            latencies.append(time.perf_counter() - began)
            bad += result.verdict is not Verdict.ACCEPTED

    await one(0)  # warm the page cache
    latencies.clear()
    began = time.perf_counter()
    await asyncio.gather(*(one(seed) for seed in range(1, args.submissions + 1)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    return (
        f"| {language} | {args.submissions} | {args.tests} | {args.submissions / elapsed:.1f} "
        f"| {args.submissions * (args.tests + 1) / elapsed:.1f} | {p50 * 1000:.0f} "
        f"| {p95 * 1000:.0f} | {bad} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--tests", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--languages", default="python,c")
    args = parser.parse_args()
    judge = LocalJudge(LocalSandboxConfig(max_parallel=args.max_parallel))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"max_parallel={args.max_parallel}, {judge.status()}"
    )
    print(
        "| language | submissions | tests each | submissions/s | sandboxes/s "
        "| p50 ms | p95 ms | not accepted |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for language in args.languages.split(","):
        print(await bench(judge, language, args), flush=True)
    await judge.close()


if __name__ == "__main__":
    asyncio.run(main())
