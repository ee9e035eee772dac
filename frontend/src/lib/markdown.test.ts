import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

describe("renderMarkdown", () => {
  it("renders Markdown", () => {
    const html = renderMarkdown("# Title\n\n**bold** and `code`\n\n- a\n- b");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<li>a</li>");
  });

  it("drops <script> elements, inline and in blocks", () => {
    const html = renderMarkdown('Hello <script>alert("x")</script>\n\n<script src="https://evil.test/x.js"></script>');
    expect(html).not.toMatch(/<script/i);
    expect(dom(html).querySelectorAll("script")).toHaveLength(0);
  });

  it("makes javascript: (and data:, vbscript:) links inert", () => {
    const cases = [
      "[click](javascript:alert(1))",
      '<a href="javascript:alert(1)">raw</a>',
      '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
      '<a href="&#106;avascript:alert(1)">entity</a>',
      "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      '<a href="vbscript:msgbox(1)">vb</a>',
    ];
    for (const source of cases) {
      const links = dom(renderMarkdown(source)).querySelectorAll("a");
      for (const a of links) {
        const href = a.getAttribute("href") ?? "";
        expect(href).not.toMatch(/^\s*(javascript|data|vbscript):/i);
      }
    }
  });

  it("removes event-handler attributes (onerror, onclick, onload…)", () => {
    const html = renderMarkdown(
      '<img src="x" onerror="alert(1)"> <a href="https://ok.test" onclick="alert(2)">ok</a> <div onmouseover="alert(3)">hover</div> <svg onload="alert(4)"></svg>',
    );
    const root = dom(html);
    for (const el of root.querySelectorAll("*")) {
      for (const attr of el.attributes) expect(attr.name.startsWith("on")).toBe(false);
    }
    expect(root.querySelector("svg")).toBeNull();
  });

  it("drops iframes, forms, styles and style attributes", () => {
    const html = renderMarkdown(
      '<iframe src="https://evil.test"></iframe><form action="https://evil.test"><input name="p"></form><style>body{display:none}</style><p style="position:fixed">x</p>',
    );
    const root = dom(html);
    expect(root.querySelector("iframe, form, input, style")).toBeNull();
    expect(root.querySelector("[style]")).toBeNull();
  });

  it("keeps safe links, opening them without an opener", () => {
    const a = dom(renderMarkdown("[docs](https://takt.example/docs)")).querySelector("a")!;
    expect(a.getAttribute("href")).toBe("https://takt.example/docs");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
    expect(a.getAttribute("target")).toBe("_blank");
  });

  it("marks @mentions, and doesn't take an email for one", () => {
    const root = dom(renderMarkdown("Thanks @maya, mail leo@example.com"));
    const mentions = [...root.querySelectorAll(".mention")].map((m) => m.textContent);
    expect(mentions).toEqual(["@maya"]);
  });

  it("doesn't let a mention carry markup", () => {
    const html = renderMarkdown('@maya<img src=x onerror="alert(1)">');
    const root = dom(html);
    expect(root.querySelector("[onerror]")).toBeNull();
    expect(root.querySelector(".mention")?.textContent).toBe("@maya");
  });
});
