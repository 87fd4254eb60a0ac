import { VigilError } from '../errors.js';
import { ANALYTIC_ID_LIST, isAnalyticId } from '../events/schema.js';

/** Subscription parameters parsed from the upgrade request. */
export interface SubscriptionFilter {
  streamIds: Set<string> | null;
  analyticIds: Set<string> | null;
  since: number | null;
  crops: boolean;
}

/** Parses `stream_id`, `analytic_id`, `since`, `crops` of an event-socket URL; bad input is VIGIL_ERR_BAD_REQUEST. */
export function parseSubscription(query: URLSearchParams): SubscriptionFilter {
  const list = (name: string): Set<string> | null => {
    const values = query
      .getAll(name)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    return values.length ? new Set(values) : null;
  };
  const streamIds = list('stream_id');
  const analyticIds = list('analytic_id');
  for (const a of analyticIds ?? []) {
    if (!isAnalyticId(a)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `analytic_id "${a}" is not one of ${ANALYTIC_ID_LIST.join(', ')}`);
  }
  const sinceText = query.get('since');
  let since: number | null = null;
  if (sinceText !== null && sinceText !== '') {
    if (!/^\d{1,15}$/.test(sinceText)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `since must be a non-negative integer seq, not "${sinceText}"`);
    since = Number(sinceText);
  }
  const cropsText = (query.get('crops') ?? '1').toLowerCase();
  if (!['0', '1', 'true', 'false', 'yes', 'no'].includes(cropsText)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `crops must be 0 or 1, not "${cropsText}"`);
  return { streamIds, analyticIds, since, crops: !['0', 'false', 'no'].includes(cropsText) };
}

/** Whether an event of this stream and analytic goes to a subscriber with this filter. */
export function matches(f: SubscriptionFilter, streamId: string, analyticId: string): boolean {
  return (!f.streamIds || f.streamIds.has(streamId)) && (!f.analyticIds || f.analyticIds.has(analyticId));
}
