// Shared inputs for the JS tests and the benchmark: the guide's sample action note and
// generators of table rows shaped like Botpress returns them.
export const GUIDE_BODY = {
  session_id: "019dd958-7eea-75a2",
  user_id: "019dd835-3f68-7e78",
  product_id: "prod_42",
  actions: [
    {
      title: "Click element",
      description: "User clicked element on the pricing page",
      canonical_url: "https://yourapp.com/pricing",
    },
  ],
};

export const NOW = Date.parse("2026-11-24T12:00:00.000Z");

/** An events-table row `secondsAgo` before NOW. */
export function storedEvent(userId, sessionId, secondsAgo, extra = {}) {
  return {
    id: Math.floor(Math.random() * 1e9),
    createdAt: new Date(NOW - secondsAgo * 1000).toISOString(),
    updatedAt: new Date(NOW - secondsAgo * 1000).toISOString(),
    title: "Click element",
    description: `User ${userId} clicked element ${secondsAgo}s ago`,
    canonical_url: "https://yourapp.com/pricing",
    user_id: userId,
    product_id: "prod_42",
    session_id: sessionId,
    action_type: "click",
    action_index: Math.round(100000 - secondsAgo * 100),
    occurred_at: null,
    batch_id: "b-1",
    ...extra,
  };
}

/** `n` rows from `users` users interleaved, spread over the last `spreadSeconds`. */
export function manyEvents(n, users = 20, spreadSeconds = 110) {
  return Array.from({ length: n }, (_, i) =>
    storedEvent(`user-${i % users}`, `session-${i % users}`, (i * spreadSeconds) / n),
  );
}

/** `n` actions in one webhook body. */
export function bigBody(n) {
  return {
    ...GUIDE_BODY,
    actions: Array.from({ length: n }, (_, i) => ({
      title: "Click element",
      description: `User clicked option ${i} on the diffusion models page`,
      canonical_url: "https://yourapp.com/models/:id",
      type: "click",
      index: i,
      timestamp_start: NOW / 1000 + i,
    })),
  };
}
