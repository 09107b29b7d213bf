// Runs review histories through ts-fsrs, the reference FSRS-6 implementation, for FsrsTests (Flywheel.Learning.Tests).
//
//   node reference.mjs <histories.json> <results.json>
//
// Input: { "histories": [ { "parameters": null | { "w": [21 numbers], "requestRetention", "maximumInterval" },
//                           "reviews": [ { "at": <Unix ms>, "grade": 1..4 } ] } ] }
// Output: { "version", "results": [ [ one object per review ] ] }, each review's object holding what ts-fsrs computes:
//   the long-term scheduler (enable_short_term false, no fuzz): elapsedDays, retrievability (the recall it used),
//   recall (get_retrievability just before the review; 0 for a new card), stability, difficulty, scheduledDays, due,
//   reps, lapses; and shortTerm: next_state with enable_short_term true, fed the same grades and elapsed days.
import { readFileSync, writeFileSync } from 'node:fs';
import { createEmptyCard, FSRSVersion, fsrs, State } from 'ts-fsrs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node reference.mjs <histories.json> <results.json>');
  process.exit(2);
}

const { histories } = JSON.parse(readFileSync(input, 'utf8'));

function settings(parameters, enableShortTerm) {
  const common = { enable_fuzz: false, enable_short_term: enableShortTerm };
  if (!parameters) {
    return common;
  }
  return {
    ...common,
    w: parameters.w,
    request_retention: parameters.requestRetention,
    maximum_interval: parameters.maximumInterval,
  };
}

const results = histories.map(({ parameters, reviews }) => {
  const longTerm = fsrs(settings(parameters, false));
  const shortTerm = fsrs(settings(parameters, true));
  let card = createEmptyCard(new Date(reviews[0].at));
  let memory = null;
  return reviews.map(({ at, grade }) => {
    const now = new Date(at);
    const isNew = card.state === State.New;
    const recall = longTerm.get_retrievability(card, now, false);
    const { card: next, log } = longTerm.next(card, now, grade);
    const retrievability = isNew ? null : longTerm.forgetting_curve(log.elapsed_days, card.stability);
    memory = shortTerm.next_state(memory, log.elapsed_days, grade);
    card = next;
    return {
      elapsedDays: log.elapsed_days,
      retrievability,
      recall,
      stability: next.stability,
      difficulty: next.difficulty,
      scheduledDays: next.scheduled_days,
      due: next.due.getTime(),
      reps: next.reps,
      lapses: next.lapses,
      shortTerm: { stability: memory.stability, difficulty: memory.difficulty },
    };
  });
});

writeFileSync(output, JSON.stringify({ version: FSRSVersion, results }));
