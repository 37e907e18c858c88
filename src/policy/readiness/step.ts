// One runbook step, judged the way the operating model defines "concrete": an on-call who joined
// last week could execute it without asking anyone. That takes three things — the artifact to act
// on, what to read or run there, and (where the step decides) the threshold that decides — and no
// wording that hands the decision back to the reader. Each check looks for the *kind* of thing
// (a command, a named panel, a comparison in any usual wording), not for particular words a team
// happens to use; README "Runbooks that work" lists the rules and test/fixtures/runbook-steps holds
// the labelled steps they are measured on.

export const MISSING = {
  place: 'the artifact to act on: a URL, a path, a command, or a named panel, dashboard or channel',
  action:
    'what to read or run there: the query or command in `code`, the **button**, or the panel or value to read',
  threshold:
    'the threshold that decides the next step: a comparison with a number ("greater than 20%", "≥ 5%", "below 2 s") or an exact state (shows "Major Outage")',
} as const;

const VAGUE_PREFIX = 'vague wording: ';

const URL = /\bhttps?:\/\/[^\s)>\]`'"]+/i;
const EMAIL = /\b[\w.+-]+@[\w-]+\.[\w.-]+\b/;
const CHANNEL = /(?:^|[\s(])#[a-z0-9][\w-]+/i;
const MENTION = /(?:^|[\s(])@[a-z0-9][\w-]+/i;
// A file or object path: an extension (`values.yaml`), two or more segments, a leading ./ ~/ /, or
// a kind/name pair such as deploy/agent-router (lower case with a separator, so "ConfigMap/Secrets"
// as a category is not a path).
const PATH =
  /(?:^|[\s(`'"])(?:~|\.{1,2})?\/?[\w.-]+\/[\w.-]+\/[\w./-]*|(?:^|[\s(`'"])(?:\.{0,2}\/)?[\w-]+(?:\/[\w.-]+)*\.(?:ya?ml|json|jsonnet|md|sh|py|ts|js|sql|toml|ini|conf|cfg|tf|txt|log|csv)\b|(?:^|[\s(`'"])(?:\.{1,2}|~)\/[\w.-]+|(?:^|[\s(])[a-z]+\/[a-z0-9]+[-_.][\w.-]*/;
// A place in a UI: "Grafana → Agents → Errors", "Settings > Limits". The next segment starts with a
// capital, a digit or a quoted or identifier-like name; "X → check Y" is a condition, not a place.
const UI_PATH =
  /[\w)'’"*`-]\s*(?:→|->|»)\s*(?:[A-Z0-9"'“‘*`]|[a-z]\w*[-_.\d][\w.-]*)|[\w)'’"*`]\s+>\s+[A-Z"'“‘*`]/;
const QUOTED =
  /"[^"]{1,80}"|“[^”]{1,80}”|‘[^’]{1,80}’|(?:^|[\s(])'[^']{1,80}'(?=[\s).,;:!?]|$)|\*\*[^*]{1,80}\*\*/;
const CODE_SPAN = /`([^`]+)`/g;
// Named with an unquoted word: "the deploys panel", "the APIServer dashboard" (a tool's own name,
// "the Grafana dashboard", names nothing).
const NAMED_THING =
  /\bthe\s+((?:[\w'’.-]+\s+){0,3}?)(panel|dashboard|graph|chart|tab|view|board|page|queue|topic|bucket|table|job|pipeline|service|cluster|node group|deployment|namespace|project|tracker|runbook section|row|column|stat|widget)\b/gi;
const TOOLS =
  /^(?:grafana|kibana|datadog|prometheus|thanos|sentry|pagerduty|opsgenie|slack|splunk|new relic|cloudwatch|honeycomb|loki|elastic|aws|gcp|azure|main|usual|relevant|right|appropriate|right|correct|normal|other|same|status|overview|monitoring|metrics|logs?|error|errors|health|home|team|affected|given|current|respective|corresponding|whole|entire|our|your|this|that|a|an|some|any|each)$/i;
// A reference back to a thing an earlier step named: "recheck the panel", "the query from step 2".
const BACK_REFERENCE =
  /\b(?:re-?(?:check|run|read|query|open|load|try|do)|refresh|repeat|again)\b|\b(?:from|in|of)\s+step\s+\d+|\bstep\s+\d+'s\b|\b(?:the|that)\s+(?:same|previous|above)\b/i;
const ROLE =
  /\b(?:the\s+)?(?:primary|secondary|incident commander|on-?call(?:\s+engineer)?|database on-?call|escalation (?:path|policy)|next person on the (?:path|rotation))\b/i;

// Verbs that act by themselves once the thing they act on is named.
const OPEN_VERB =
  /\b(?:open|go to|goes to|navigate to|browse to|visit|switch to|load|refresh|sort|filter|search|select|expand|scroll to|log ?in to|sign in to|ssh to|connect to)\b/i;
const CLICK = /\b(?:click|press|tap|hit|choose|select|toggle|check the box)\b/i;
const POST_VERB =
  /\b(?:post|announce|send|page|email|e-mail|notify|tell|message|call|escalate|hand(?:\s+it)?(?:\s+over)?\s+to|assign)\b/i;
const SET_VERB =
  /\b(?:run|trigger|execute|launch|kick off|set|change|raise|lower|increase|decrease|double|halve|bump|scale|resize|turn (?:on|off)|enable|disable|switch|pause|resume|stop|start|restart|roll ?back|revert|drain|cordon|uncordon|delete|remove|purge|flush|silence|mute|fail ?over|promote|demote|block|unblock|rotate|renew|add|apply|merge|deploy)\b/i;
const RESOLVE = /\b(?:resolve|acknowledge|ack|close|mitigate)\s+(?:the\s+)?(?:page|incident|alert)\b/i;
// Going to another step of this runbook is an action on a place the runbook already names.
const GOTO =
  /\b(?:go|skip|jump|continue|return|proceed|move on|start over)\s+(?:on\s+|back\s+)?(?:to|with|at)\s+(?:the\s+)?(?:(?:step|section)\s+\d+|next step|(?:rest of\s+)?step\s+\d+)/i;
const PAGER =
  /\bin\s+(?:PagerDuty|Opsgenie|incident\.io|FireHydrant|Rootly|Grafana OnCall|Splunk On-Call|VictorOps)\b/i;
const READ_VERB =
  /\b(?:read|note|record|copy|compare|look at|look for|check|verify|confirm|view|inspect|watch|see|find|look up|take a look|review|monitor|query|count|list|get|print|show)\b/i;
// What to read: the number, a field, a quoted label, a metric name (FreeStorageSpace, TPM, p95).
const WHAT_TO_READ =
  /\bthe\s+(?:[\w'’-]+\s+){0,2}?(?:number|value|count|total|column|field|stat|sha|id|ids|percentage|ratio|rate|result|output|label|labels|line|timestamp|time|date|version|size|limit|usage|lag|reading|figure)\b|\b[A-Z][a-z]+[A-Z]\w*\b|\b[A-Z]{3,}\b|\bp\d{2,3}\b/;

// A number, not an identifier with digits in it (5xx, p99, s3 are names).
const NUMBER =
  /(?:^|[^\w.])[-+]?\$?\d+(?:[.,]\d+)?(?:\s*(?:%|‰|x|×|ms|s|sec|seconds?|m|min|minutes?|h|hours?|d|days?|[kmg]i?b|[kmg]b|mb|gb|tb|rps|qps|req\/s|usd|eur|€)\b|%|×)?(?![\w])|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|twice|half|a third|a quarter)\b/i;
const COMPARATOR =
  /(?:>=?|<=?|≥|≤|==|!=|≠|=)\s*\$?[-+]?\d|\b(?:greater|more|higher|larger|bigger|longer|less|fewer|lower|smaller|shorter)\s+than\b|\b(?:above|below|over|under|beyond|exceeds?|exceeding|exceeded|reach(?:es|ed)?|hits?|crosses|tops|at least|at most|at or (?:above|below|over|under)|up to|no more than|no less than|not more than|not less than|within|outside|between|equals?|equal to|drops? (?:below|under|to)|falls? (?:below|under|to)|rises? (?:above|over|to)|goes? (?:above|over|below|under)|stays? (?:above|below|over|under)|remains? (?:above|below|over|under))\b|\bor (?:more|less|fewer|higher|lower|above|below|greater|over|under)\b/i;
// An exact state decides too: shows "Major Outage", returns `200`, says `true`, is empty.
const EXACT_STATE =
  /\b(?:is|are|isn't|aren't|shows?|showing|reads?|says?|returns?|reports?|prints?|outputs?|lists?|contains?|equals?|becomes?|turns?|stays?|remains?|still shows|has status|is in|are in|in state|status of|marked)\s+(?:not\s+|still\s+|no\s+longer\s+)?(?:"[^"]+"|“[^”]+”|'[^']+'|‘[^’]+’|`[^`]+`|\*\*[^*]+\*\*)|\b(?:no|any|zero|a)\s+(?:pods?|rows?|results?|lines?|replicas?|output|errors?|match(?:es)?|events?)\b[^.;]{0,40}?(?:`[^`]+`|"[^"]+"|'[^']+'|\bis\b|\bare\b|\bshows?\b|\breturns?\b|\bmatch)|\b(?:is|are|comes back|returns?)\s+(?:empty|nothing|null|non-?zero|zero|true|false)\b|\b(?:fails?|failed|succeeds?|succeeded|times? out|timed out|exits? (?:non-?zero|with|0|1)|errors out|is missing|is absent|is not found|does not exist|doesn't exist|no longer exists?|is unreachable|is reachable)\b|\bsays?\s+\w+\b|\bwith (?:status|code|exit code)\s+\d+/i;
// Where the step decides something.
const BRANCH =
  /\b(?:if|when|whenever|once|unless|whether|otherwise|in case|until|as soon as)\b|\?\s*$|(?:→|->|=>)\s*(?:check|review|look|see|verify|inspect|confirm|run|restart|roll|scale|increase|raise|fix|go|open|investigate|consider|try|escalate|page|ask|read|use)\b/i;
// Deferral: the step only sends the reader somewhere else.
const DEFERRAL =
  /\bfollow\s+(?:it|them|this|that|these|those|the\s+(?:(?:[\w-]+\s+){0,3})?(?:steps?|instructions?|procedure|process|guide|runbook|playbook|docs?|documentation|page|link|wiki|checklist|article|section))\b|\bfollow\s+(?:https?:|`|docs?\/|\.\/)|(?:^|[.;:]\s*)see\s+(?:the\s+)?(?:https?:|`|\[|docs?\/|\.\/|runbook|wiki|doc|docs|documentation|page|confluence|notion|playbook|section|link|article|(?:queries|steps|instructions|commands)\s+(?:below|above))|\brefer\s+to\b|\bconsult\b|\bas\s+(?:described|documented|explained|outlined)\s+(?:in|at|on|by)\b|\baccording\s+to\s+the\s+(?:runbook|wiki|doc|docs|documentation|page|playbook)\b|\b(?:the\s+)?(?:queries|steps|instructions|commands)\s+(?:below|above)\b/i;

const VAGUE_ALWAYS: Array<[RegExp, string]> = [
  [
    /\bas (?:needed|appropriate|necessary|required)\b|\bif (?:needed|necessary|appropriate|required)\b|\bappropriately\b/i,
    '"as needed" leaves the decision to the reader',
  ],
  [
    /\b(?:the\s+)?(?:usual|normal|relevant|appropriate|right|correct|proper)\s+(?:place|dashboard|logs?|people|person|team|channel|script|process|procedure|way|tool|steps?)\b|\byour usual\b|\bthe usual\b/i,
    '"the usual place" assumes the reader knows it',
  ],
  [/\b(?:someone|somebody|anyone|anybody|whoever)\b/i, '"someone" names nobody'],
  [/\betc\.?(?:\s|$)|\band so on\b|\bwhatever\b/i, '"etc." hides steps'],
  [
    /\b(?:somehow|something)\b|\banything\s+(?:unusual|off|odd|wrong|weird|strange|suspicious|obvious)\b/i,
    'leaves the action open',
  ],
  [
    /\b(?:use your (?:judge?ment|best judge?ment)|stop and think|bounce ideas|if it (?:will )?saves? time|gut feel(?:ing)?)\b/i,
    'leaves the decision to the reader',
  ],
  [/\b(?:maybe|perhaps|possibly)\b/i, 'a guess, not a step'],
];
// Verbs that name a goal rather than a procedure: vague unless the step also gives the command.
const GOAL_VERB =
  /\b(?:investigate|troubleshoot|debug|look into|dig (?:deeper|into)|figure out|get to the bottom|fix (?:the|it|this|that)|deal with|handle (?:it|the)|take care of|make sure|ensure|clean up|tidy up|tune|sort out|stabili[sz]e|work out|understand|determine)\b/i;
// A judgement a reader cannot check without a number — "is high", "too many", "for spikes" — as a
// predicate, not as part of a name ("the slow query log").
const JUDGEMENT_WORD =
  '(?:high|low|elevated|unusual|abnormal|significant(?:ly)?|widespread|noisy|slow|unstable|overloaded|struggling|degraded|unhealthy|healthy|fine|ok|okay|normal|reasonable|acceptable|off|wrong|weird|odd|bad|good|sustained|obvious|stable|increased|decreased)';
const JUDGEMENT = new RegExp(
  `\\b(?:is|are|was|were|be|been|looks?|seems?|gets?|getting|becomes?|becoming|stays?|remains?|very|too|for|any|an?|see|shows?|unless)\\s+(?:\\w+\\s+)?${JUDGEMENT_WORD}\\b|\\b(?:too many|too much|too few|a lot of|lots of|spik(?:e|es|ing|y)|anomal(?:y|ies|ous)|stabili[sz]es?)\\b`,
  'i',
);
// Exact states a command or page reports (`kubectl` says Running, a target page says UP): they
// decide only when the step names where they are read.
const STATE_WORD =
  /\b(?:is|are|isn't|aren't|is not|are not|shows?|reports?)\s+(?:still\s+)?(?:up|down|running|ready|pending|green|red|yellow|enabled|disabled|active|inactive|online|offline|available|unavailable|true|false|paused|stopped|crashing|completed|failed)\b/i;
// Clauses that only look like a decision: "the time when", "if so" (the previous step decided).
const NOT_A_BRANCH =
  /\b(?:time|date|moment|point|day|hour|minute)\s+(?:when|since)\b|\bif (?:so|not|yes|no)\b|\botherwise\b/gi;

function codeSpans(text: string): string[] {
  return [...text.matchAll(CODE_SPAN)].map((m) => m[1]!);
}

/** A code span that is something to run (a command or query), not just a name (`tasks`, `200`). */
function isCommand(span: string, before: string): boolean {
  if (/\s|[|(){}[\]=<>$;&]|^\/\w|^\.{0,2}\/|\.sh$|\(\)$/.test(span.trim()))
    return !/^https?:\/\/\S+$/.test(span);
  return /\b(?:run|execute|type|paste|enter|invoke|call|use|with|using|via)\s*:?\s*$/i.test(before);
}

/** A comparison in any usual wording with its number close by: "greater than 20%", "20% or more". */
function hasThreshold(prose: string): boolean {
  const text = prose.replace(/\bp\d{2,3}\b/gi, ' ');
  for (const m of text.matchAll(new RegExp(COMPARATOR.source, 'gi'))) {
    const around = text.slice(Math.max(0, m.index - 24), m.index + m[0].length + 40);
    if (NUMBER.test(around)) return true;
  }
  return false;
}

function hasNamedThing(text: string): boolean {
  for (const m of text.matchAll(NAMED_THING)) {
    const words = m[1]!.trim().split(/\s+/).filter(Boolean);
    if (words.some((w) => !TOOLS.test(w.replace(/['’]s$/, '')))) return true;
  }
  return false;
}

/** Longer than any step a person reads at 3 a.m.; also keeps every pattern here fast. */
const MAX_STEP_CHARS = 1200;

/** What a reader would have to ask about this step; empty when it is concrete. */
export function judgeStep(step: string, hasCodeBlock: boolean): string[] {
  if (step.length > MAX_STEP_CHARS)
    return [
      `${VAGUE_PREFIX}a step of ${step.length} characters is several steps: split it (at most ${MAX_STEP_CHARS})`,
    ];
  const text = step;
  const spans = codeSpans(text);
  let command = hasCodeBlock;
  for (const m of text.matchAll(CODE_SPAN)) {
    if (isCommand(m[1]!, text.slice(0, m.index))) command = true;
  }
  const prose = text.replace(/`[^`]*`/g, ' CODE ');
  const bare = prose.replace(URL, ' LINK ');

  const place =
    command ||
    spans.length > 0 ||
    URL.test(text) ||
    EMAIL.test(text) ||
    CHANNEL.test(bare) ||
    MENTION.test(bare.replace(EMAIL, '')) ||
    PATH.test(bare) ||
    UI_PATH.test(bare) ||
    QUOTED.test(prose) ||
    hasNamedThing(prose) ||
    BACK_REFERENCE.test(prose) ||
    ROLE.test(prose) ||
    GOTO.test(prose) ||
    (RESOLVE.test(prose) && PAGER.test(text));

  const threshold = hasThreshold(prose);
  const exact =
    EXACT_STATE.test(text) || (STATE_WORD.test(prose) && (command || URL.test(text) || spans.length > 0));
  const clickNamed =
    CLICK.test(prose) &&
    (/\*\*[^*]+\*\*|"[^"]+"|“[^”]+”|'[^']+'|`[^`]+`/.test(text) ||
      /\b(?:click|press|tap|hit|choose|select)\s+(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*\b/.test(text));
  const recipient =
    EMAIL.test(text) || CHANNEL.test(bare) || MENTION.test(bare.replace(EMAIL, '')) || ROLE.test(prose);

  const action =
    command ||
    clickNamed ||
    // A decision that sends the reader to another step acts by itself ("If so, go to step 4").
    (GOTO.test(prose) && BRANCH.test(prose)) ||
    (place &&
      (OPEN_VERB.test(prose) ||
        (POST_VERB.test(prose) && recipient) ||
        (SET_VERB.test(prose) &&
          (spans.length > 0 ||
            QUOTED.test(prose) ||
            URL.test(text) ||
            PATH.test(bare) ||
            UI_PATH.test(bare))) ||
        RESOLVE.test(prose) ||
        BACK_REFERENCE.test(prose) ||
        (READ_VERB.test(prose) &&
          (WHAT_TO_READ.test(prose) || spans.length > 0 || QUOTED.test(prose) || threshold || exact)))) ||
    (RESOLVE.test(prose) && PAGER.test(text));

  const missing: string[] = [];
  const deferral = DEFERRAL.test(prose) || DEFERRAL.test(text);
  if (!place) missing.push(MISSING.place);
  if (!action && !deferral) missing.push(MISSING.action);
  if (deferral) missing.push(`${VAGUE_PREFIX}a link to follow is not a procedure: write the steps here`);
  if (BRANCH.test(prose.replace(NOT_A_BRANCH, ' ')) && !threshold && !exact) missing.push(MISSING.threshold);
  for (const [re, why] of VAGUE_ALWAYS) if (re.test(prose)) missing.push(`${VAGUE_PREFIX}${why}`);
  if (!command && GOAL_VERB.test(prose))
    missing.push(`${VAGUE_PREFIX}names a goal, not the procedure to reach it`);
  const unquoted = prose.replace(/"[^"]*"|“[^”]*”|'[^']*'|\*\*[^*]*\*\*/g, ' ');
  if (!threshold && !exact && JUDGEMENT.test(unquoted))
    missing.push(`${VAGUE_PREFIX}a judgement with no number`);
  return missing;
}
