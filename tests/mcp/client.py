"""MCP session against `opcat serve`, driven by the official Python SDK (`mcp`, pinned in
tests/mcp/requirements.txt, installed into .cache/venv by scripts/setup-tests.sh). Run by
tests/mcp.rs, which starts the fake Azure DevOps and passes:

  OPCAT_BIN      the opcat binary          OPCAT_CATALOG  the artifact
  OPCAT_BASE_URL the fake, on loopback     AZURE_DEVOPS_PAT the planted token
  EXPECTED_FILE  JSON: {"id", "args", "body"} of one recorded example
  EXEC_BASE_URL  a second fake, whose path values match any value (ids flow between calls)
  CHAINS_FILE    JSON: [{"name", "code"}] the chained programs of tests/common/programs.rs
  ANSWERS_FILE   where to write [{"name", "answer"}]: each program's `execute` answer

It lists the tools, runs search -> contract -> call as an agent would, checks argument
errors and unknown ids come back as tool errors, then, in a second session, runs each
chained program through `execute` (tests/mcp.rs checks the answers against what the fake
saw) and a failing one, and checks that no answer holds the token. Exits non-zero with a
message on the first failed check.
"""

import asyncio
import base64
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOKEN = os.environ["AZURE_DEVOPS_PAT"]
CREDENTIAL = base64.b64encode((":" + TOKEN).encode()).decode()


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def text_of(result):
    parts = [getattr(c, "text", "") for c in result.content]
    text = "\n".join(parts)
    check(TOKEN not in text and CREDENTIAL not in text, f"an answer leaks the token: {text[:300]}")
    return text


def is_error(result):
    for name in ("is_error", "isError"):
        v = getattr(result, name, None)
        if v is not None:
            return bool(v)
    return False


def server(base_url):
    return StdioServerParameters(
        command=os.environ["OPCAT_BIN"],
        args=["serve", "--catalog", os.environ["OPCAT_CATALOG"], "--org", "fabrikam"],
        env={
            "AZURE_DEVOPS_PAT": TOKEN,
            "OPCAT_BASE_URL": base_url,
            "PATH": os.environ.get("PATH", ""),
        },
    )


def schema_of(tool):
    return getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None)


async def main():
    expected = json.load(open(os.environ["EXPECTED_FILE"], encoding="utf-8"))
    async with stdio_client(server(os.environ["OPCAT_BASE_URL"])) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            info = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
            check(info is not None and info.name == "opcat", f"server info: {info}")

            tools = (await session.list_tools()).tools
            names = sorted(t.name for t in tools)
            check(names == ["call", "contract", "execute", "search"], f"tools: {names}")
            for t in tools:
                check(len(t.description or "") > 80, f"{t.name}: description too short")
                schema = schema_of(t)
                check(schema and schema.get("type") == "object", f"{t.name}: input schema {schema}")
            required = {t.name: set(schema_of(t).get("required", [])) for t in tools}
            check(required["call"] == {"id"}, f"call requires {required['call']}")
            check(required["execute"] == {"code"}, f"execute requires {required['execute']}")

            # search: the pull request lookup an agent would make.
            r = await session.call_tool("search", {"query": "get a pull request by its id", "area": "git", "limit": 5})
            check(not is_error(r), "search failed")
            hits = text_of(r)
            check("git.pullRequests.getPullRequestById" in hits, f"search hits:\n{hits}")
            check("getPullRequestById(args: {" in hits, f"no one-line signature:\n{hits}")
            # Several intents in one search: a section per query, each declared.
            r = await session.call_tool(
                "search", {"queries": ["list git repositories", "create a pull request"]}
            )
            check(not is_error(r), "a search with queries failed")
            hits = text_of(r)
            for needle in (
                "## list git repositories",
                "## create a pull request",
                "  api.git.repositories.list(",
                "  api.git.pullRequests.create(",
            ):
                check(needle in hits, f"missing {needle!r} in:\n{hits}")
            r = await session.call_tool("search", {"query": "zzzz qqqq", "area": "nosuch"})
            check("No operation matches" in text_of(r), "an empty search says so")

            # contract
            r = await session.call_tool("contract", {"id": expected["id"]})
            check(not is_error(r), "contract failed")
            contract = text_of(r)
            check("interface GitPullRequest" in contract, f"contract:\n{contract[:500]}")
            r = await session.call_tool("contract", {"id": "no.such.op"})
            check(is_error(r), "an unknown id is a tool error")

            # call: the recorded response comes back through the fake server.
            r = await session.call_tool("call", {"id": expected["id"], "args": expected["args"]})
            body = text_of(r)
            check(not is_error(r), f"call failed: {body}")
            check(json.loads(body) == expected["body"], f"call body differs:\n{body[:500]}")

            # call with bad arguments: every problem and the signature, nothing sent.
            r = await session.call_tool(
                "call",
                {"id": expected["id"], "args": {"pullRequestId": "x", "organization": "o"}},
            )
            check(is_error(r), "bad arguments are a tool error")
            msg = text_of(r)
            for needle in (
                "3 problems",
                "argument `pullRequestId`: expected integer, found string",
                "argument `organization` is not an argument",
                "missing required argument `project`",
                "getPullRequestById(args:",
            ):
                check(needle in msg, f"missing {needle!r} in:\n{msg}")

            # a server error: status and message.
            args = dict(expected["args"])
            args["pullRequestId"] = 987654
            r = await session.call_tool("call", {"id": expected["id"], "args": args})
            check(is_error(r), "a 404 is a tool error")
            msg = text_of(r)
            check("HTTP 404" in msg and "no recorded example" in msg, msg)

    # execute: each chained program in one call, in a session against the second fake.
    chains = json.load(open(os.environ["CHAINS_FILE"], encoding="utf-8"))
    answers = []
    async with stdio_client(server(os.environ["EXEC_BASE_URL"])) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for chain in chains:
                r = await session.call_tool("execute", {"code": chain["code"]})
                body = text_of(r)
                check(not is_error(r), f"{chain['name']}: execute failed: {body[:800]}")
                answers.append({"name": chain["name"], "answer": json.loads(body)})
            # A program that fails: a tool error with the line, the nearest ids and the
            # calls made before it.
            r = await session.call_tool(
                "execute",
                {"code": "const p = await api.core.projects.list({});\nreturn await api.core.projects.lst({});"},
            )
            check(is_error(r), "a failing program is a tool error")
            failed = json.loads(text_of(r))
            check(failed["error"].get("line") == 2, f"error line: {failed['error']}")
            check("core.projects.list" in failed["error"]["message"], f"nearest ids: {failed['error']}")
            check([c["id"] for c in failed["calls"]] == ["core.projects.list"], f"calls: {failed['calls']}")
    with open(os.environ["ANSWERS_FILE"], "w", encoding="utf-8") as f:
        json.dump(answers, f)
    print("mcp session ok")


asyncio.run(main())
