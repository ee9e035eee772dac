/**
 * Markdown to safe HTML: marked renders (GFM), DOMPurify removes everything that could run
 * script (script/style/iframe/form elements, event-handler attributes, javascript: and other
 * non-web URLs). Links open in a new tab without opener. `@username` is marked as a mention.
 */
import DOMPurify from "dompurify";
import { Marked, type TokenizerAndRendererExtension } from "marked";

const mention: TokenizerAndRendererExtension = {
  name: "mention",
  level: "inline",
  start(src: string) {
    const at = src.search(/(^|[^\w@])@[A-Za-z0-9_][A-Za-z0-9_.-]*/);
    return at < 0 ? undefined : src[at] === "@" ? at : at + 1;
  },
  tokenizer(src: string) {
    const match = /^@([A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_])/.exec(src);
    if (match) return { type: "mention", raw: match[0], username: match[1] };
    return undefined;
  },
  renderer(token) {
    const name = String(token.username).replace(/[^A-Za-z0-9_.-]/g, "");
    return `<span class="mention">@${name}</span>`;
  },
};

const marked = new Marked({ gfm: true, breaks: true, async: false, extensions: [mention] });

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer nofollow");
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

const FORBID_TAGS = ["style", "script", "iframe", "object", "embed", "form", "input", "button", "textarea", "select", "link", "meta", "base", "svg", "math"];

/** Safe HTML for a Markdown text (descriptions, comments, cards). */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source ?? "") as string;
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR: ["style", "srcset", "formaction"],
    ALLOW_DATA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/(?!\/)|\.{0,2}\/)/i,
  });
}
