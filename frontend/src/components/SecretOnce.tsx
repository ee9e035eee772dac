import { useRef, useState, type ReactNode } from "react";
import "./secret-once.css";

/**
 * A secret the API shows only once (a webhook's signing secret, a repository's webhook secret):
 * the value, a copy button, and a plain warning that it won't be shown again.
 */
export function SecretOnce({ label, secret, onDone, children }: { label: string; secret: string; onDone: () => void; children?: ReactNode }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const ref = useRef<HTMLInputElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard (an insecure origin, a refused permission): select it for Ctrl+C instead.
      ref.current?.select();
      setCopied("failed");
    }
  }
  return (
    <div className="secret-once card" role="region" aria-label={label} data-testid="secret-once">
      <p>
        <strong>{label}</strong>: copy it now. It is shown only this once; rotate it to get a new one.
      </p>
      {children}
      <div className="row">
        <label className="visually-hidden" htmlFor="secret-value">
          {label}
        </label>
        <input id="secret-value" ref={ref} className="mono secret-value" readOnly value={secret} onFocus={(e) => e.target.select()} />
        <button type="button" className="primary" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          I've stored it
        </button>
      </div>
      <p className="small muted" role="status">
        {copied === "yes" ? "Copied to the clipboard." : copied === "failed" ? "Couldn't reach the clipboard: the secret is selected, press Ctrl+C (⌘C)." : ""}
      </p>
    </div>
  );
}
