// @vitest-environment node
import { describe, expect, it, vi } from "vitest";
import { SseParser } from "./sse";
import { runEventStream, type TaktEvent } from "./stream";

function event(n: number, type = "item.updated") {
  return { id: `e${n}`, type, occurred_at: "2026-11-27T09:00:00Z", project_key: "DEMO", actor: null, data: { key: `DEMO-${n}` } };
}

function frame(n: number): string {
  return `id: c${n}\nevent: item.updated\ndata: ${JSON.stringify(event(n))}\n\n`;
}

/** A response whose body sends the chunks, then ends (the connection drops). */
function streamOf(chunks: string[], status = 200): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const encoder = new TextEncoder();
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
  return new Response(body, { status, headers: { "Content-Type": "text/event-stream" } });
}

describe("SseParser", () => {
  it("parses events split anywhere across chunks, with CRLF, comments and multi-line data", () => {
    const parser = new SseParser();
    const text = ": keep-alive\r\n\r\nid: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\nid: 2\ndata: z\n\n";
    const out = [];
    for (const ch of text) out.push(...parser.push(ch)); // one character at a time
    expect(out).toEqual([
      { id: "1", event: "a", data: "x\ny" },
      { id: "2", event: "message", data: "z" },
    ]);
  });

  it("ignores a message without data and a closing comment", () => {
    const parser = new SseParser();
    expect(parser.push("event: x\n\n: closed: too slow: resume with Last-Event-ID\n\n")).toEqual([]);
  });
});

describe("runEventStream", () => {
  it("reconnects after a drop with Last-Event-ID = the last id, so nothing is lost or repeated", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const requests: Request[] = [];
    const answers = [
      () => streamOf([frame(1), frame(2).slice(0, 20), frame(2).slice(20)]),
      () => streamOf([": keep-alive\n\n", frame(3)]),
    ];
    const fetch = vi.fn(async (request: Request) => {
      requests.push(request);
      const next = answers.shift();
      if (!next) {
        controller.abort();
        return new Response(null, { status: 503 });
      }
      return next();
    });
    const last = await runEventStream({
      url: "http://takt.test/api/v1/projects/DEMO/events",
      fetch,
      signal: controller.signal,
      onEvent: (e: TaktEvent) => seen.push(e.id),
      backoff: () => 0,
      sleep: async () => undefined,
    });
    expect(seen).toEqual(["e1", "e2", "e3"]);
    expect(requests[0]!.headers.get("Accept")).toBe("text/event-stream");
    expect(requests[0]!.headers.get("Last-Event-ID")).toBeNull();
    expect(requests[1]!.headers.get("Last-Event-ID")).toBe("c2");
    expect(requests[2]!.headers.get("Last-Event-ID")).toBe("c3");
    expect(last).toBe("c3");
  });

  it("starts from a given cursor, and retries a 503 with backoff", async () => {
    const controller = new AbortController();
    const waits: number[] = [];
    const requests: Request[] = [];
    let n = 0;
    const fetch = vi.fn(async (request: Request) => {
      requests.push(request);
      n += 1;
      if (n === 1) return new Response(null, { status: 503 });
      if (n === 2) throw new TypeError("network down");
      controller.abort();
      return streamOf([]);
    });
    await runEventStream({
      url: "http://takt.test/e",
      fetch,
      lastEventId: "c41",
      signal: controller.signal,
      onEvent: () => undefined,
      backoff: (attempt) => attempt * 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(requests.map((r) => r.headers.get("Last-Event-ID"))).toEqual(["c41", "c41", "c41"]);
    expect(waits).toEqual([100, 200]);
  });

  it("stops for good on a 404 (project gone) and on a 401 after the session's refresh", async () => {
    for (const status of [404, 401]) {
      const statuses: string[] = [];
      const fetch = vi.fn(async () => new Response(null, { status }));
      await runEventStream({
        url: "http://takt.test/e",
        fetch,
        signal: new AbortController().signal,
        onEvent: () => undefined,
        onStatus: (s) => statuses.push(s),
        sleep: async () => undefined,
      });
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(statuses.at(-1)).toBe("stopped");
    }
  });

  it("reports live once connected and skips frames that aren't JSON", async () => {
    const controller = new AbortController();
    const statuses: string[] = [];
    const seen: string[] = [];
    const fetch = vi.fn(async () => streamOf(["id: c1\ndata: not json\n\n", frame(2)]));
    await runEventStream({
      url: "http://takt.test/e",
      fetch,
      signal: controller.signal,
      onEvent: (e) => {
        seen.push(e.id);
        controller.abort();
      },
      onStatus: (s) => statuses.push(s),
      sleep: async () => undefined,
    });
    expect(statuses).toContain("live");
    expect(seen).toEqual(["e2"]);
  });
});
