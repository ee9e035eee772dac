import { useMemo } from "react";
import { renderMarkdown } from "../lib/markdown";

/** Renders Markdown sanitised (see lib/markdown.ts); nothing in it can run script. */
export function Markdown({ source, className }: { source: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div className={`markdown ${className ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
