//! Friction signals: deterministic patterns in a session's recent actions that suggest the user
//! is stuck — going back and forth, hesitating between pages, staying on a page without acting,
//! clicking the same thing in a burst, re-submitting a form, or leaving a multi-step flow.
//!
//! The agent context states them so the agent does not have to infer them from raw events, and
//! the streamer turns them into proactive triggers. Every threshold is in [`SignalConfig`].

use serde::{Deserialize, Serialize};

use crate::order::{groups, sort_by_key};
use crate::text::{description_or_title, quote};
use crate::time::iso_from_ms;

/// One action as the detectors see it: where, what kind, on what, when.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Canonical URL reduced to its path (`https://app.com/pricing?x` → `/pricing`).
    pub page: String,
    /// `pageview`, `click`, `submit`, …
    pub kind: String,
    /// What was acted on: the description, else the title.
    pub target: String,
    /// Unix milliseconds.
    pub at_ms: i64,
}

impl Step {
    /// From raw fields: the target is the description, else the title.
    pub fn new(url: &str, kind: &str, description: &str, title: &str, at_ms: i64) -> Self {
        let target = description_or_title(description, title);
        Self {
            page: page_of(url),
            kind: kind.trim().to_ascii_lowercase(),
            target: target.trim().to_owned(),
            at_ms,
        }
    }
}

/// The path of a URL, without scheme, host, query or fragment; `/` when empty.
pub fn page_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| {
        rest.find('/').map_or("/", |slash| &rest[slash..])
    });
    let path = rest.split(['?', '#']).next().unwrap_or("/");
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// Thresholds of every detector. Missing fields take the defaults shown on each.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SignalConfig {
    /// Strict A→B→A returns needed for ping-pong (default 1).
    pub ping_pong_min_returns: usize,
    /// Distinct pages, with at least one revisit, for hesitation (default 3).
    pub hesitation_min_pages: usize,
    /// Time on one page for dwell (default 60 s)…
    pub dwell_min_ms: i64,
    /// …with at most this many actions there (default 5).
    pub dwell_max_actions: usize,
    /// Clicks on the same element for rage clicks (default 4)…
    pub rage_min_clicks: usize,
    /// …within this time (default 3 s).
    pub rage_window_ms: i64,
    /// Submits on one page without leaving it (default 2).
    pub repeated_submit_min: usize,
    /// Multi-step paths; leaving one after its second step and before its last is "abandoned".
    pub flows: Vec<Flow>,
}

impl Default for SignalConfig {
    fn default() -> Self {
        Self {
            ping_pong_min_returns: 1,
            hesitation_min_pages: 3,
            dwell_min_ms: 60_000,
            dwell_max_actions: 5,
            rage_min_clicks: 4,
            rage_window_ms: 3_000,
            repeated_submit_min: 2,
            flows: Vec::new(),
        }
    }
}

/// A named multi-step path, e.g. `checkout: /pricing → /checkout → /checkout/done`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub name: String,
    /// Page paths in order; a page matches a step equal to it or below it (`/checkout/:id`).
    pub steps: Vec<String>,
}

/// Kinds of signal.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    PingPong,
    Hesitation,
    Dwell,
    RageClicks,
    RepeatedSubmits,
    FlowAbandoned,
}

impl SignalKind {
    pub const ALL: [SignalKind; 6] = [
        SignalKind::PingPong,
        SignalKind::Hesitation,
        SignalKind::Dwell,
        SignalKind::RageClicks,
        SignalKind::RepeatedSubmits,
        SignalKind::FlowAbandoned,
    ];
}

/// What a signal is based on.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Pages involved, in the order they matter.
    pub pages: Vec<String>,
    /// Elements involved (clicked or submitted), if any.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub elements: Vec<String>,
    /// How many times the pattern happened (returns, clicks, submits, …).
    pub count: usize,
    /// When it started (ISO-8601).
    pub from: String,
    /// When it ended (ISO-8601).
    pub to: String,
}

/// A detected signal with its evidence and a short description for people and agents.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Which friction pattern.
    pub kind: SignalKind,
    /// What the user did, e.g. "went back and forth between /pricing and /checkout 3 times in
    /// 40 s".
    pub description: String,
    /// What the signal is based on.
    pub evidence: Evidence,
}

/// Detects every signal in `steps` (any order) as of `now_ms`.
pub fn detect(mut steps: Vec<Step>, now_ms: i64, config: &SignalConfig) -> Vec<Signal> {
    sort_by_key(&mut steps, |s| s.at_ms);
    let visits = visits(&steps);
    let mut found = Vec::new();
    let ping_pong = ping_pong(&visits, config);
    let had_ping_pong = ping_pong.is_some();
    found.extend(ping_pong);
    if !had_ping_pong {
        // Ping-pong is the sharper form of hesitation: report one, not both.
        found.extend(hesitation(&visits, config));
    }
    found.extend(visits.last().and_then(|last| dwell(last, now_ms, config)));
    found.extend(rage_clicks(&steps, config));
    found.extend(repeated_submits(&steps, config));
    found.extend(config.flows.iter().filter_map(|f| abandoned(&visits, f)));
    found
}

/// A stay on one page: the page, and the first and last action time there.
#[derive(Debug, Clone, PartialEq)]
struct Visit {
    page: String,
    first_ms: i64,
    last_ms: i64,
    actions: usize,
}

fn visits(steps: &[Step]) -> Vec<Visit> {
    let mut out: Vec<Visit> = Vec::new();
    for step in steps {
        match out.last_mut() {
            Some(v) if v.page == step.page => {
                v.last_ms = step.at_ms;
                v.actions += 1;
            }
            _ => out.push(Visit {
                page: step.page.clone(),
                first_ms: step.at_ms,
                last_ms: step.at_ms,
                actions: 1,
            }),
        }
    }
    out
}

fn seconds(ms: i64) -> String {
    let s = ms.max(0).saturating_add(500) / 1000;
    if s < 120 {
        format!("{s} s")
    } else {
        format!("{} min", (s + 30) / 60)
    }
}

fn times(n: usize) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// Strict A→B→A: the pair of pages with the most returns.
///
/// One pass: a run of visits alternating between two pages can only be extended or broken by the
/// next visit, and when it breaks at visit `k` the only run that can go on starts at `k - 1`
/// (runs starting inside the broken one alternate between the same pages and break at `k` too).
fn ping_pong(visits: &[Visit], config: &SignalConfig) -> Option<Signal> {
    let mut best: Option<(usize, usize, usize)> = None; // (returns, first index, last index)
    let mut start = 0;
    for end in 1..=visits.len() {
        let continues =
            end < visits.len() && end >= start + 2 && visits[end].page == visits[end - 2].page;
        if continues || end < start + 2 {
            continue;
        }
        let last = end - 1;
        let returns = last - start - 1;
        if returns >= 1 && best.is_none_or(|(r, _, _)| returns > r) {
            best = Some((returns, start, last));
        }
        start = end - 1;
    }
    let (returns, start, end) =
        best.filter(|(r, _, _)| *r >= config.ping_pong_min_returns.max(1))?;
    let (a, b) = (&visits[start].page, &visits[start + 1].page);
    let switches = end - start;
    let span = visits[end].first_ms.saturating_sub(visits[start].first_ms);
    Some(Signal {
        kind: SignalKind::PingPong,
        description: format!(
            "went back and forth between {} and {} {} in {}",
            quote(a),
            quote(b),
            times(switches),
            seconds(span)
        ),
        evidence: Evidence {
            pages: vec![a.clone(), b.clone()],
            elements: Vec::new(),
            count: returns,
            from: iso_from_ms(visits[start].first_ms),
            to: iso_from_ms(visits[end].last_ms),
        },
    })
}

/// At least `hesitation_min_pages` distinct pages with a revisit among them.
fn hesitation(visits: &[Visit], config: &SignalConfig) -> Option<Signal> {
    // Each page's first visit, and its second if it had one (a revisit), in visit order.
    let mut first = vec![false; visits.len()];
    let mut second = vec![false; visits.len()];
    let pages: Vec<&str> = visits.iter().map(|v| v.page.as_str()).collect();
    for group in groups(&pages) {
        first[group[0]] = true;
        if let Some(&next) = group.get(1) {
            second[next] = true;
        }
    }
    let marked = |marks: &[bool]| -> Vec<&str> {
        visits
            .iter()
            .zip(marks)
            .filter(|(_, marked)| **marked)
            .map(|(v, _)| v.page.as_str())
            .collect()
    };
    let (pages, revisited) = (marked(&first), marked(&second));
    if pages.len() < config.hesitation_min_pages.max(2) || revisited.is_empty() {
        return None;
    }
    let (first, last) = (visits.first()?, visits.last()?);
    let quoted = |list: &[&str]| list.iter().map(|p| quote(p)).collect::<Vec<_>>().join(", ");
    Some(Signal {
        kind: SignalKind::Hesitation,
        description: format!(
            "moved between {} pages ({}) and came back to {} in {}",
            pages.len(),
            quoted(&pages),
            quoted(&revisited),
            seconds(last.first_ms.saturating_sub(first.first_ms))
        ),
        evidence: Evidence {
            pages: pages.iter().map(|p| (*p).to_owned()).collect(),
            elements: Vec::new(),
            count: revisited.len(),
            from: iso_from_ms(first.first_ms),
            to: iso_from_ms(last.last_ms),
        },
    })
}

/// The current page held for `dwell_min_ms` (until `now`) with few actions.
fn dwell(last: &Visit, now_ms: i64, config: &SignalConfig) -> Option<Signal> {
    let stayed = now_ms.saturating_sub(last.first_ms);
    if stayed < config.dwell_min_ms || last.actions > config.dwell_max_actions {
        return None;
    }
    Some(Signal {
        kind: SignalKind::Dwell,
        description: format!(
            "has been on {} for {} with only {} action{} there",
            quote(&last.page),
            seconds(stayed),
            last.actions,
            if last.actions == 1 { "" } else { "s" }
        ),
        evidence: Evidence {
            pages: vec![last.page.clone()],
            elements: Vec::new(),
            count: last.actions,
            from: iso_from_ms(last.first_ms),
            to: iso_from_ms(now_ms),
        },
    })
}

/// The largest burst of clicks on one element within `rage_window_ms`.
fn rage_clicks(steps: &[Step], config: &SignalConfig) -> Option<Signal> {
    // Clicks grouped by element, each group in time order (steps are sorted); then a sliding
    // window per group: O(n log n) rather than comparing every pair of clicks.
    let all: Vec<&Step> = steps.iter().filter(|s| s.kind == "click").collect();
    let keys: Vec<(&str, &str)> = all.iter().map(|s| (&*s.page, &*s.target)).collect();
    let mut best: Option<(usize, &Step, &Step)> = None; // (count, first click, last click)
    for group in groups(&keys) {
        let clicks: Vec<&Step> = group.iter().map(|&i| all[i]).collect();
        let mut start = 0;
        for (end, last) in clicks.iter().enumerate() {
            while last.at_ms.saturating_sub(clicks[start].at_ms) > config.rage_window_ms {
                start += 1;
            }
            let count = end - start + 1;
            let earlier = |b: &(usize, &Step, &Step)| clicks[start].at_ms < b.1.at_ms;
            if best.is_none_or(|b| count > b.0 || (count == b.0 && earlier(&b))) {
                best = Some((count, clicks[start], last));
            }
        }
    }
    let (count, a, b) = best.filter(|(c, _, _)| *c >= config.rage_min_clicks.max(2))?;
    Some(Signal {
        kind: SignalKind::RageClicks,
        description: format!(
            "clicked {} on {} {} in {}",
            quote(&a.target),
            quote(&a.page),
            times(count),
            seconds(b.at_ms.saturating_sub(a.at_ms))
        ),
        evidence: Evidence {
            pages: vec![a.page.clone()],
            elements: vec![a.target.clone()],
            count,
            from: iso_from_ms(a.at_ms),
            to: iso_from_ms(b.at_ms),
        },
    })
}

/// Several submits on the current page without moving on.
fn repeated_submits(steps: &[Step], config: &SignalConfig) -> Option<Signal> {
    let current = &steps.last()?.page;
    let tail: Vec<&Step> = steps
        .iter()
        .rev()
        .take_while(|s| &s.page == current)
        .collect();
    let submits: Vec<&&Step> = tail.iter().filter(|s| s.kind == "submit").collect();
    if submits.len() < config.repeated_submit_min.max(2) {
        return None;
    }
    let (last, first) = (submits.first()?, submits.last()?);
    let mut elements: Vec<String> = Vec::new();
    for s in submits.iter().rev() {
        if !elements.contains(&s.target) {
            elements.push(s.target.clone());
        }
    }
    Some(Signal {
        kind: SignalKind::RepeatedSubmits,
        description: format!(
            "submitted the form on {} {} in {} without moving on",
            quote(current),
            times(submits.len()),
            seconds(last.at_ms.saturating_sub(first.at_ms))
        ),
        evidence: Evidence {
            pages: vec![current.clone()],
            elements,
            count: submits.len(),
            from: iso_from_ms(first.at_ms),
            to: iso_from_ms(last.at_ms),
        },
    })
}

fn step_of(flow: &Flow, page: &str) -> Option<usize> {
    flow.steps.iter().rposition(|step| {
        let step = step.trim_end_matches('/');
        page == step
            || page
                .strip_prefix(step)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Reached the flow's second step or later, then left for a page outside it before the last.
fn abandoned(visits: &[Visit], flow: &Flow) -> Option<Signal> {
    if flow.steps.len() < 2 {
        return None;
    }
    let last_step = flow.steps.len() - 1;
    let left = visits.len().checked_sub(1)?;
    if step_of(flow, &visits[left].page).is_some() {
        return None; // still inside the flow
    }
    // The furthest step of the stay in the flow just before leaving.
    let mut furthest: Option<(usize, usize)> = None; // (step, visit index)
    for i in (0..left).rev() {
        let Some(step) = step_of(flow, &visits[i].page) else {
            break;
        };
        if furthest.is_none_or(|(s, _)| step > s) {
            furthest = Some((step, i));
        }
    }
    let (step, at) = furthest.filter(|(s, _)| *s >= 1 && *s < last_step)?;
    Some(Signal {
        kind: SignalKind::FlowAbandoned,
        description: format!(
            "left the {} flow at step {} of {} ({}) for {}",
            quote(&flow.name),
            step + 1,
            flow.steps.len(),
            quote(&visits[at].page),
            quote(&visits[left].page)
        ),
        evidence: Evidence {
            pages: vec![visits[at].page.clone(), visits[left].page.clone()],
            elements: vec![flow.name.clone()],
            count: step + 1,
            from: iso_from_ms(visits[at].first_ms),
            to: iso_from_ms(visits[left].first_ms),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_521_600_000;

    /// Steps from (seconds after T0, page, kind, target).
    fn steps(script: &[(i64, &str, &str, &str)]) -> Vec<Step> {
        script
            .iter()
            .map(|(s, page, kind, target)| Step {
                page: (*page).into(),
                kind: (*kind).into(),
                target: (*target).into(),
                at_ms: T0 + s * 1000,
            })
            .collect()
    }

    fn kinds(steps: &[Step], now_s: i64, config: &SignalConfig) -> Vec<SignalKind> {
        detect(steps.to_vec(), T0 + now_s * 1000, config)
            .into_iter()
            .map(|s| s.kind)
            .collect()
    }

    fn pageviews(pages: &[(i64, &str)]) -> Vec<Step> {
        steps(
            &pages
                .iter()
                .map(|(s, p)| (*s, *p, "pageview", ""))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn pages_are_paths() {
        assert_eq!(page_of("https://app.com/pricing?plan=pro#x"), "/pricing");
        assert_eq!(page_of("https://app.com"), "/");
        assert_eq!(page_of("/checkout/"), "/checkout");
    }

    #[test]
    fn ping_pong_fires_on_a_return_and_describes_it() {
        let s = pageviews(&[
            (0, "/pricing"),
            (10, "/checkout"),
            (25, "/pricing"),
            (40, "/checkout"),
        ]);
        let found = detect(s.clone(), T0 + 41_000, &SignalConfig::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, SignalKind::PingPong);
        assert_eq!(
            found[0].description,
            r#"went back and forth between "/pricing" and "/checkout" 3 times in 40 s"#
        );
        assert_eq!(found[0].evidence.pages, ["/pricing", "/checkout"]);
        assert_eq!(found[0].evidence.count, 2);
    }

    #[test]
    fn ping_pong_near_misses() {
        let config = SignalConfig::default();
        // A→B→C: no return.
        assert!(kinds(&pageviews(&[(0, "/a"), (5, "/b"), (9, "/c")]), 10, &config).is_empty());
        // Staying on A with many actions is not going back and forth.
        let same = steps(&[
            (0, "/a", "pageview", ""),
            (5, "/a", "click", "x"),
            (9, "/a", "click", "y"),
        ]);
        assert!(kinds(&same, 10, &config).is_empty());
        // Two returns required: one is not enough.
        let strict = SignalConfig {
            ping_pong_min_returns: 2,
            ..config
        };
        assert!(kinds(&pageviews(&[(0, "/a"), (5, "/b"), (9, "/a")]), 10, &strict).is_empty());
    }

    #[test]
    fn hesitation_needs_three_pages_and_a_revisit() {
        let config = SignalConfig::default();
        let s = pageviews(&[(0, "/a"), (5, "/b"), (9, "/c"), (14, "/a")]);
        let found = detect(s.clone(), T0 + 15_000, &config);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SignalKind::Hesitation);
        assert_eq!(found[0].evidence.pages, ["/a", "/b", "/c"]);
        // Three pages, no revisit; two pages with a revisit are ping-pong, not hesitation.
        assert!(kinds(&pageviews(&[(0, "/a"), (5, "/b"), (9, "/c")]), 10, &config).is_empty());
        assert_eq!(
            kinds(&pageviews(&[(0, "/a"), (5, "/b"), (9, "/a")]), 10, &config),
            [SignalKind::PingPong]
        );
    }

    #[test]
    fn dwell_fires_after_a_minute_with_few_actions() {
        let config = SignalConfig::default();
        let s = steps(&[
            (0, "/a", "pageview", ""),
            (5, "/pricing", "pageview", ""),
            (20, "/pricing", "click", "Plans"),
        ]);
        let found = detect(s.clone(), T0 + 70_000, &config);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SignalKind::Dwell);
        assert_eq!(
            found[0].description,
            r#"has been on "/pricing" for 65 s with only 2 actions there"#
        );
        // 59 s is not a minute; six actions there is activity, not dwelling.
        assert!(kinds(&s, 64, &config).is_empty());
        let busy: Vec<Step> = steps(
            &(0..6)
                .map(|i| (i * 2, "/pricing", "click", "x"))
                .collect::<Vec<_>>(),
        );
        assert!(!kinds(&busy, 120, &config).contains(&SignalKind::Dwell));
    }

    #[test]
    fn rage_clicks_need_a_burst_on_one_element() {
        let config = SignalConfig::default();
        let burst = steps(&[
            (0, "/c", "click", "Pay"),
            (1, "/c", "click", "Pay"),
            (1, "/c", "click", "Pay"),
            (2, "/c", "click", "Pay"),
        ]);
        let found = detect(burst.clone(), T0 + 3_000, &config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, SignalKind::RageClicks);
        assert_eq!(found[0].evidence.elements, ["Pay"]);
        assert_eq!(found[0].evidence.count, 4);
        // Same element but spread out; a burst across different elements.
        let slow = steps(&[
            (0, "/c", "click", "Pay"),
            (2, "/c", "click", "Pay"),
            (4, "/c", "click", "Pay"),
            (6, "/c", "click", "Pay"),
        ]);
        assert!(kinds(&slow, 7, &config).is_empty());
        let mixed = steps(&[
            (0, "/c", "click", "A"),
            (0, "/c", "click", "B"),
            (1, "/c", "click", "C"),
            (1, "/c", "click", "D"),
        ]);
        assert!(kinds(&mixed, 2, &config).is_empty());
    }

    #[test]
    fn repeated_submits_without_moving_on() {
        let config = SignalConfig::default();
        let s = steps(&[
            (0, "/checkout", "pageview", ""),
            (10, "/checkout", "submit", "Pay"),
            (20, "/checkout", "submit", "Pay again"),
        ]);
        let found = detect(s.clone(), T0 + 21_000, &config);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SignalKind::RepeatedSubmits);
        assert_eq!(found[0].evidence.elements, ["Pay", "Pay again"]);
        // A submit that led somewhere else is progress.
        let progressed = steps(&[
            (0, "/checkout", "submit", "Pay"),
            (5, "/checkout", "submit", "Pay"),
            (8, "/done", "pageview", ""),
        ]);
        assert!(kinds(&progressed, 9, &config).is_empty());
    }

    #[test]
    fn abandoned_flow_after_its_second_step() {
        let config = SignalConfig {
            flows: vec![Flow {
                name: "checkout".into(),
                steps: vec![
                    "/pricing".into(),
                    "/checkout".into(),
                    "/checkout/done".into(),
                ],
            }],
            ..SignalConfig::default()
        };
        let left = pageviews(&[(0, "/pricing"), (10, "/checkout/42"), (30, "/docs")]);
        let found = detect(left.clone(), T0 + 31_000, &config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, SignalKind::FlowAbandoned);
        assert_eq!(
            found[0].description,
            r#"left the "checkout" flow at step 2 of 3 ("/checkout/42") for "/docs""#
        );
        // Finished, still inside, or never past the first step.
        assert!(kinds(
            &pageviews(&[
                (0, "/pricing"),
                (10, "/checkout"),
                (20, "/checkout/done"),
                (30, "/docs")
            ]),
            31,
            &config
        )
        .is_empty());
        assert!(kinds(
            &pageviews(&[(0, "/pricing"), (10, "/checkout")]),
            11,
            &config
        )
        .is_empty());
        assert!(kinds(
            &pageviews(&[(0, "/docs"), (10, "/pricing"), (20, "/blog")]),
            21,
            &config
        )
        .is_empty());
    }

    /// The quadratic definition: for every start, the longest alternation from there.
    fn ping_pong_by_definition(visits: &[Visit]) -> Option<(usize, usize, usize)> {
        let mut best: Option<(usize, usize, usize)> = None;
        for start in 0..visits.len().saturating_sub(2) {
            let (a, b) = (&visits[start].page, &visits[start + 1].page);
            let mut end = start + 1;
            while end + 1 < visits.len()
                && &visits[end + 1].page == if (end - start) % 2 == 1 { a } else { b }
            {
                end += 1;
            }
            let returns = end - start - 1;
            if returns >= 1 && best.is_none_or(|(r, _, _)| returns > r) {
                best = Some((returns, start, end));
            }
        }
        best
    }

    #[test]
    fn one_pass_ping_pong_agrees_with_the_definition() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..2_000 {
            let pages = 2 + next(4);
            let len = next(40) as i64;
            let s = pageviews(
                &(0..len)
                    .map(|i| (i, ["/a", "/b", "/c", "/d", "/e"][next(pages) as usize]))
                    .collect::<Vec<_>>(),
            );
            let v = visits(&s);
            let expected = ping_pong_by_definition(&v);
            let found = ping_pong(&v, &SignalConfig::default());
            assert_eq!(
                found.map(|s| (s.evidence.count, s.evidence.from)),
                expected.map(|(r, start, _)| (r, iso_from_ms(v[start].first_ms))),
                "case {case}"
            );
        }
    }

    #[test]
    fn config_reads_camel_case_with_defaults() {
        let config: SignalConfig = serde_json::from_str(
            r#"{"rageMinClicks": 3, "flows": [{"name": "f", "steps": ["/a", "/b"]}]}"#,
        )
        .unwrap();
        assert_eq!(config.rage_min_clicks, 3);
        assert_eq!(config.dwell_min_ms, 60_000);
        assert_eq!(config.flows[0].steps, ["/a", "/b"]);
    }
}
