import { useEffect, useId, useState, type FormEvent } from "react";

type Facets = Record<string, Record<string, number>> | null;

const FACET_LABELS: Record<string, string> = {
  status: "Status",
  assignee: "Assignee",
  type: "Type",
  label: "Label",
  priority: "Priority",
};

function quote(value: string): string {
  return /^[\w@.-]+$/.test(value) ? value : `"${value.replace(/"/g, '\\"')}"`;
}

/** The `q=` filter language in one input, with facet counts that add a term when chosen. */
export function FilterBar({
  query,
  onQuery,
  facets,
  defaultQuery,
}: {
  query: string;
  onQuery: (q: string) => void;
  facets: Facets;
  defaultQuery: string;
}) {
  const [text, setText] = useState(query);
  const helpId = useId();
  useEffect(() => setText(query), [query]);
  function submit(e: FormEvent) {
    e.preventDefault();
    onQuery(text.trim());
  }
  function addTerm(field: string, value: string) {
    const term = value === "none" && field === "assignee" ? "assignee:none" : `${field}:${quote(value)}`;
    const next = query.includes(term) ? query : `${query} ${term}`.trim();
    onQuery(next);
  }
  return (
    <div className="filterbar card">
      <form className="row" role="search" onSubmit={submit}>
        <label htmlFor="backlog-q" className="visually-hidden">
          Filter items
        </label>
        <input
          id="backlog-q"
          className="filter-input mono"
          type="search"
          value={text}
          maxLength={1000}
          placeholder='status:"In Progress" assignee:@me label:api "free text"'
          aria-describedby={helpId}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="primary">
          Filter
        </button>
        {query !== defaultQuery && (
          <button type="button" onClick={() => onQuery(defaultQuery)}>
            Reset
          </button>
        )}
      </form>
      <p id={helpId} className="muted small filter-help">
        Fields: status, category, assignee (@me, none), label, type, priority (&gt;=high), sprint (current, none),
        estimate, due; free text in quotes; <code>-</code> negates; <code>OR</code> for alternatives.
      </p>
      {facets && (
        <div className="facets">
          {Object.entries(facets).map(([field, counts]) => (
            <details key={field} className="facet">
              <summary>{FACET_LABELS[field] ?? field}</summary>
              <ul>
                {Object.entries(counts)
                  .sort((a, b) => b[1] - a[1])
                  .map(([value, count]) => (
                    <li key={value}>
                      <button type="button" className="ghost facet-value" onClick={() => addTerm(field, value)}>
                        <span>{value}</span>
                        <span className="badge">{count}</span>
                      </button>
                    </li>
                  ))}
              </ul>
            </details>
          ))}
        </div>
      )}
    </div>
  );
}
