import { Hono } from "hono";
import {
  IMAGE_STATES,
  type ImageCloudState,
  type ImageStatusRow,
  progressOf,
  readImageStatus,
  rowDetail,
  shortVersion,
} from "../../images/index.js";
import {
  filteredImageStatus,
  IMAGES_REFRESH_SECONDS,
  type ImageGridView,
  type ImageQuery,
  ImageQuerySchema,
  imageGridView,
} from "./admin-images-data.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { Layout, renderPage, when } from "./layout.js";
import { requireAdmin, requireApi, requirePage, type WebEnv } from "./security.js";
import { filteredHref, Pager, SelectFilter, SuggestInput } from "./widgets.js";

const STATE_CLASS: Record<ImageCloudState, string> = {
  present: "state-ok",
  transferring: "state-warn",
  failed: "state-bad",
  pending: "state-none",
};

/**
 * One cell: the state, with the bytes of a transfer (a `<progress>` bar and the numbers) or the code and reason of a
 * failure; the numbers ride along as data attributes for scripts and tests.
 */
const Cell = ({ row }: { row: ImageStatusRow | undefined }) => {
  if (!row)
    return (
      <td class="muted" data-state="none" title="not targeted">
        -
      </td>
    );
  const fraction = progressOf(row);
  const detail = rowDetail(row);
  return (
    <td
      class="nowrap"
      data-state={row.state}
      data-image={row.image}
      data-bytes-done={row.bytesDone}
      data-total-bytes={row.totalBytes}
      data-code={row.code}
    >
      <span class={STATE_CLASS[row.state]}>{row.state}</span>
      {row.state === "transferring" && fraction !== undefined ? (
        <>
          {" "}
          <progress value={row.bytesDone ?? 0} max={row.totalBytes} />
        </>
      ) : null}
      {detail ? (
        <>
          <br />
          <small class="muted">{detail}</small>
        </>
      ) : null}
    </td>
  );
};

const Grid = ({ view }: { view: ImageGridView }) => (
  <div class="scroll">
    <table class="compact" aria-label="Images by cloud">
      <thead>
        <tr>
          <th scope="col">Cloud</th>
          {view.columns.map((c) => (
            <th scope="col" data-image={c.image} data-version={c.version}>
              {c.image}
              <br />
              <small class="muted">{`${c.imageSet} · ${shortVersion(c.version)}`}</small>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {view.rows.map((row) => (
          <tr data-cloud={row.cloudId}>
            <th scope="row" class="nowrap">
              {row.cloudId}
            </th>
            {row.cells.map((cell) => (
              <Cell row={cell} />
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

const Counts = ({ view }: { view: ImageGridView }) => (
  <p class="counts">
    {IMAGE_STATES.map((s, i) => (
      <>
        {i > 0 ? " · " : null}
        <span data-count={s}>
          <span class={STATE_CLASS[s]}>{s}</span> {String(view.counts[s])}
        </span>
      </>
    ))}
  </p>
);

const Filters = ({ query, clouds, images }: { query: ImageQuery; clouds: readonly string[]; images: string[] }) => (
  <form method="get" action="/admin/images" class="filters" aria-label="Filter the images">
    <SuggestInput id="i-cloud" name="cloud" label="Cloud" value={query.cloud} options={clouds} />
    <SuggestInput id="i-image" name="image" label="Image" value={query.image} options={images} />
    <SelectFilter id="i-state" name="state" label="State" value={query.state} options={IMAGE_STATES} />
    <button type="submit" class="secondary">
      Filter
    </button>
  </form>
);

function link(query: ImageQuery, page: number): string {
  const { cloud, image, state } = query;
  return filteredHref("/admin/images", { cloud, image, state, page: String(page) });
}

/**
 * `/admin/images`: every ImageSet image version (columns) in every cloud (rows), the state per cell, as the image
 * distribution last wrote it to the store (`archway images status` reads the same snapshot); JSON at
 * `/api/v1/admin/images` (the filtered snapshot, as `archway images status --json` prints it). One store read per
 * view, never a cloud; while transfers run the page reloads itself.
 */
export function adminImageRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/images", requirePage(deps), requireAdmin(deps));
  app.use("/api/v1/admin/images", requireApi(deps), requireAdmin(deps));

  app.get("/admin/images", async (c) => {
    const query = ImageQuerySchema.parse(c.req.query());
    const snapshot = await readImageStatus(deps.store);
    const view = imageGridView(snapshot, query);
    const running = snapshot?.running === true;
    const json = new URLSearchParams();
    if (query.cloud) json.set("cloud", query.cloud);
    if (query.image) json.set("image", query.image);
    return renderPage(
      c,
      <Layout
        title="Images"
        user={pageUser(deps, c)}
        current="admin"
        refreshSeconds={running ? IMAGES_REFRESH_SECONDS : undefined}
      >
        <p data-running={String(running)}>
          {snapshot
            ? `ImageSet images in ${view.clouds} cloud(s), status written ${when(snapshot.writtenAt)}. `
            : "No image has been distributed yet. "}
          {running ? (
            <span class="muted">{`Transfers are running: this page reloads every ${IMAGES_REFRESH_SECONDS} s. `}</span>
          ) : null}
          <a href={`/api/v1/admin/images${json.size ? `?${json}` : ""}`}>JSON</a>
        </p>
        <Filters query={query} clouds={deps.clouds.map((cl) => cl.id)} images={view.imageNames} />
        <Counts view={view} />
        {view.rows.length === 0 ? <p class="muted">No image status matches.</p> : <Grid view={view} />}
        <Pager pageNumber={view.pageNumber} pages={view.pages} href={(page) => link(query, page)} />
      </Layout>,
    );
  });

  // The snapshot with the rows of `?cloud=` and `?image=`; `null` before any distribution.
  app.get("/api/v1/admin/images", async (c) => {
    const query = ImageQuerySchema.parse(c.req.query());
    return c.json(filteredImageStatus(await readImageStatus(deps.store), query));
  });

  return app;
}
