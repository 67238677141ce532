/** Jobs routes: the seeds' Flask API (`/data/all`, `/data?<field>=<regex>`) and a Link-header paginated list. */
import { POSTING_FIELDS, jobPosting, type Posting } from "../datasets/jobs";
import { HttpError, intParam, ok, range, type Route } from "./route";

export const MAX_JOBS_PER_PAGE = 500;

/** Query parameters that are not field filters. */
const NOT_FILTERS = new Set(["api_key"]);

export const jobsRoutes: Route[] = [
  {
    pattern: /^\/data\/all$/,
    handler: (ctx) => ok(ctx.emptyPage ? [] : range(0, ctx.sizes.jobs, (i) => jobPosting(ctx.seed, i))),
  },
  {
    pattern: /^\/data$/,
    handler: (ctx) => {
      const filters: { field: keyof Posting; regex: RegExp }[] = [];
      for (const entry of ctx.query.entries()) {
        const field = entry[0];
        if (NOT_FILTERS.has(field)) continue;
        if (!(POSTING_FIELDS as readonly string[]).includes(field))
          throw new HttpError(400, `unknown field ${JSON.stringify(field)}; fields: ${POSTING_FIELDS.join(", ")}`);
        try {
          filters.push({ field: field as keyof Posting, regex: new RegExp(entry[1], "i") });
        } catch (e) {
          throw new HttpError(400, `invalid regular expression for ${field}: ${(e as Error).message}`);
        }
      }
      if (ctx.emptyPage) return ok([]);
      const out: Posting[] = [];
      for (let i = 0; i < ctx.sizes.jobs; i++) {
        const posting = jobPosting(ctx.seed, i);
        if (filters.every((f) => f.regex.test(String(posting[f.field])))) out.push(posting);
      }
      return ok(out);
    },
  },
  {
    pattern: /^\/jobs\/postings$/,
    handler: (ctx) => {
      const total = ctx.sizes.jobs;
      const page = intParam(ctx.query, "page", 1, 1, 1e12);
      const perPage = intParam(ctx.query, "per_page", 50, 1, MAX_JOBS_PER_PAGE);
      const start = Math.min((page - 1) * perPage, total);
      const end = Math.min(start + perPage, total);
      const lastPage = Math.max(1, Math.ceil(total / perPage));
      const link = (p: number): string => `${ctx.baseUrl}/jobs/postings?page=${p}&per_page=${perPage}`;
      const links: string[] = [];
      if (end < total || ctx.emptyPage) links.push(`<${link(page + 1)}>; rel="next"`);
      links.push(`<${link(lastPage)}>; rel="last"`);
      if (page > 1) links.push(`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`);
      return ok(ctx.emptyPage ? [] : range(start, end, (i) => jobPosting(ctx.seed, i)), { link: links.join(", ") });
    },
  },
];
