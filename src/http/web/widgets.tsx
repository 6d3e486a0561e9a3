/**
 * Small pieces several admin pages share: the pager under a filtered list, and a text filter that suggests values.
 */

/** Links to the previous and next pages of a filtered list (nothing when it fits on one page). */
export const Pager = ({
  pageNumber,
  pages,
  href,
}: {
  pageNumber: number;
  pages: number;
  /** The URL of a page, keeping the list's filters. */
  href: (page: number) => string;
}) =>
  pages <= 1 ? null : (
    <nav aria-label="Pages" class="filters">
      {pageNumber > 1 ? <a href={href(pageNumber - 1)}>previous</a> : null}
      <span>{`page ${pageNumber} of ${pages}`}</span>
      {pageNumber < pages ? <a href={href(pageNumber + 1)}>next</a> : null}
    </nav>
  );

/** A labelled filter of a list page: its query parameter `name`, the value asked now, the values to offer. */
interface FilterProps {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  options: readonly string[];
}

/**
 * A labelled text filter with suggestions. A datalist rather than a select: 1,000 clouds are fine to type into, not
 * to scroll through.
 */
export const SuggestInput = ({ id, name, label, value, options }: FilterProps) => (
  <div>
    <label for={id}>{label}</label>
    <input id={id} type="text" name={name} value={value ?? ""} list={`${id}-options`} placeholder="any" />
    <datalist id={`${id}-options`}>
      {options.map((option) => (
        <option value={option} />
      ))}
    </datalist>
  </div>
);

/**
 * A labelled choice among fixed values, "any" first (the filter left out of the query). Used for the state filters.
 */
export const SelectFilter = ({ id, name, label, value, options }: FilterProps) => (
  <div>
    <label for={id}>{label}</label>
    <select id={id} name={name}>
      <option value="" selected={!value}>
        any
      </option>
      {options.map((option) => (
        <option value={option} selected={value === option}>
          {option}
        </option>
      ))}
    </select>
  </div>
);

/** The URL of `path` with the given filters, in their order, leaving out the empty ones. */
export function filteredHref(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) q.set(key, value);
  return `${path}?${q}`;
}
