//! Rules 3 to 5 applied to one part's events: each kind put in the order its rule walks,
//! split into runs of one person, handed to [`crate::rules`], and the decisions gathered back
//! into frames (rows are taken from the frames read, never rebuilt value by value).

use outcomes_schemas::lake::col as event;
use outcomes_schemas::tables::columns as c;
use std::ops::Range;

use polars::prelude::*;
use rayon::prelude::*;

use crate::names::{AGENCY, CONSORTIUM, EPISODE_NO, EVENT_ID, ISSUE, ITEMS, PERSON_CODE, kinds};
use crate::rules::{self, Day, Job, Span, Step, Token};
use outcomes_schemas::EventType;
use outcomes_schemas::tables::Issue;

/// What the walk decided for one part.
pub(crate) struct Walked {
    /// One row per episode: keys, owning agency, intake, exit, and its activity counts.
    pub(crate) episodes: DataFrame,
    /// One row per job, with its episode, separation, `job_seq` and `next_start_on`.
    pub(crate) jobs: DataFrame,
    /// `consortium_id, agency_id, issue, _items`: the items of rules 3 to 5 but the wages'.
    pub(crate) issues: DataFrame,
}

/// The spec's walking order within a person: (`occurred_on`, `recorded_at`, `event_id`).
///
/// The order is found on the four key columns alone, and the columns are then put in it one
/// by one (on both cores), each dropped as soon as its sorted copy is made: a sort of the
/// whole frame held two copies of the part's activities at once, the peak of a 10M-event run.
/// `recorded_at` and `event_id` only decide the order, so they are dropped, not sorted: the
/// event ids were the largest column of the sorted frames.
fn in_walking_order(frame: DataFrame) -> PolarsResult<DataFrame> {
    const ORDER: &str = "_order";
    const ORDER_ONLY: [&str; 2] = [event::RECORDED_AT, EVENT_ID];
    let keys = [
        PERSON_CODE,
        event::OCCURRED_ON,
        ORDER_ONLY[0],
        ORDER_ONLY[1],
    ];
    let order = frame
        .select(keys)?
        .with_row_index(ORDER.into(), None)?
        .sort(
            keys,
            SortMultipleOptions::default().with_maintain_order(true),
        )?
        .column(ORDER)?
        .idx()?
        .clone();
    let height = frame.height();
    let carried = frame.drop_many(ORDER_ONLY);
    drop(frame); // the order-only columns go now, and each other one once gathered
    let sorted = (carried.into_columns().into_par_iter())
        .map(|column| column.rechunk().take(&order))
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, sorted)
}

/// The rows of a frame sorted by person, as runs of one person each.
fn runs(persons: &[Option<IdxSize>]) -> impl Iterator<Item = (Option<IdxSize>, Range<usize>)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let person = *persons.get(start)?;
        let end = persons[start..]
            .iter()
            .position(|p| *p != person)
            .map_or(persons.len(), |n| start + n);
        let run = (person, start..end);
        start = end;
        Some(run)
    })
}

fn person_codes(frame: &DataFrame) -> PolarsResult<Vec<Option<IdxSize>>> {
    Ok(frame.column(PERSON_CODE)?.idx()?.iter().collect())
}

fn day_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Day>> {
    let days = frame.column(name)?.date()?.physical();
    Ok(days.iter().map(|day| day.unwrap_or(Day::MIN)).collect())
}

/// A text column's values; a missing one reads as empty (the contract requires `job_id`
/// wherever the walk reads it, so only a damaged lake has none).
fn texts<'a>(frame: &'a DataFrame, name: &str) -> PolarsResult<Vec<&'a str>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|text| text.unwrap_or(""))
        .collect())
}

fn row(index: usize) -> IdxSize {
    // Frames of a part are far below `IdxSize::MAX` rows (a part is bounded by
    // `events_per_part`, and Polars itself indexes rows with `IdxSize`).
    index as IdxSize
}

/// Data-quality items found in one frame: the rows concerned and their issues.
#[derive(Default)]
struct Items {
    rows: Vec<IdxSize>,
    issues: Vec<Issue>,
}

impl Items {
    fn push(&mut self, index: usize, issue: Issue) {
        self.rows.push(row(index));
        self.issues.push(issue);
    }

    /// `consortium_id, agency_id, issue, _items` rows, the agency being the event's own.
    fn frame(self, source: &DataFrame) -> PolarsResult<DataFrame> {
        let rows = IdxCa::from_vec("".into(), self.rows);
        let mut frame = source.select([CONSORTIUM, AGENCY])?.take(&rows)?;
        let codes = StringChunked::from_iter_values(
            ISSUE.into(),
            self.issues.iter().map(|issue| issue.to_string()),
        );
        let count = Int64Chunked::full(ITEMS.into(), 1, codes.len());
        frame.with_column(codes.into_column())?;
        frame.with_column(count.into_column())?;
        Ok(frame)
    }
}

fn date_column(name: &str, days: impl Iterator<Item = Option<Day>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days)
        .into_date()
        .into_column()
}

/// Rule 3 over the part's intakes and exits: the episodes, as rows of `tokens` (sorted).
struct Episodes {
    spans: Vec<Span>,
    /// Per person code (from the part's first): its episodes' range in `spans`.
    of_person: Vec<Range<usize>>,
    intakes: Vec<IdxSize>,
    exits: Vec<Option<IdxSize>>,
}

fn walk_episodes(
    tokens: &DataFrame,
    first_code: IdxSize,
    persons: usize,
    items: &mut Items,
) -> PolarsResult<Episodes> {
    let codes = person_codes(tokens)?;
    let day = day_values(tokens, event::OCCURRED_ON)?;
    let kinds: Vec<Token> = kinds(tokens)?
        .into_iter()
        .map(|kind| match kind {
            Some(EventType::Intake) => Token::Intake,
            _ => Token::Exit,
        })
        .collect();
    let mut episodes = Episodes {
        spans: Vec::new(),
        of_person: vec![0..0; persons],
        intakes: Vec::new(),
        exits: Vec::new(),
    };
    for (code, rows) in runs(&codes) {
        let first = episodes.spans.len();
        for (index, step) in rows.clone().zip(rules::episodes(rows.map(|r| kinds[r]))) {
            match step {
                Step::Opens(no) => {
                    episodes.spans.push(Span {
                        no,
                        intake_on: day[index],
                        exit_on: None,
                    });
                    episodes.intakes.push(row(index));
                    episodes.exits.push(None);
                }
                Step::Closes(no) => {
                    let episode = first + (no - 1) as usize;
                    episodes.spans[episode].exit_on = Some(day[index]);
                    episodes.exits[episode] = Some(row(index));
                }
                Step::Ignored(issue) => items.push(index, issue),
            }
        }
        if let Some(slot) = code.and_then(|c| episodes.of_person.get_mut((c - first_code) as usize))
        {
            *slot = first..episodes.spans.len();
        }
    }
    Ok(episodes)
}

/// The first dates and counts of each episode's assessments and services.
struct Activity {
    first_assessment_on: Vec<Option<Day>>,
    first_activity_on: Vec<Option<Day>>,
    assessments: Vec<i64>,
    services: Vec<i64>,
}

impl Activity {
    fn new(episodes: usize) -> Self {
        Activity {
            first_assessment_on: vec![None; episodes],
            first_activity_on: vec![None; episodes],
            assessments: vec![0; episodes],
            services: vec![0; episodes],
        }
    }

    fn add(&mut self, episode: usize, day: Day, assessment: bool) {
        let earliest = |seen: Option<Day>| Some(seen.map_or(day, |seen| seen.min(day)));
        self.first_activity_on[episode] = earliest(self.first_activity_on[episode]);
        if assessment {
            self.first_assessment_on[episode] = earliest(self.first_assessment_on[episode]);
            self.assessments[episode] += 1;
        } else {
            self.services[episode] += 1;
        }
    }
}

/// The episode (an index into `episodes.spans`) of an activity of `person` on `day` (rule 4).
fn episode_of(
    episodes: &Episodes,
    first_code: IdxSize,
    person: Option<IdxSize>,
    day: Day,
) -> Result<usize, Issue> {
    let range = person
        .and_then(|c| episodes.of_person.get((c - first_code) as usize))
        .cloned()
        .unwrap_or(0..0);
    let no = rules::attribute(&episodes.spans[range.clone()], day)?;
    Ok(range.start + (no - 1) as usize)
}

/// The part's jobs, as rows of the activities frame, grouped by person.
struct Jobs<'a> {
    rows: Vec<IdxSize>,
    list: Vec<Job<'a>>,
    episode: Vec<usize>,
    /// Runs of one person: (person code, range in the lists above).
    of_person: Vec<(IdxSize, Range<usize>)>,
}

/// Rules 4 and 5 over the activities (sorted in walking order): attribution, the activity
/// counts, and the jobs the placements make.
fn walk_activities<'a>(
    activities: &'a DataFrame,
    episodes: &Episodes,
    first_code: IdxSize,
    items: &mut Items,
) -> PolarsResult<(Activity, Jobs<'a>)> {
    let codes = person_codes(activities)?;
    let day = day_values(activities, event::OCCURRED_ON)?;
    let kinds = kinds(activities)?;
    let job_ids = texts(activities, event::JOB_ID)?;
    let mut activity = Activity::new(episodes.spans.len());
    let mut jobs = Jobs {
        rows: Vec::new(),
        list: Vec::new(),
        episode: Vec::new(),
        of_person: Vec::new(),
    };
    for (code, rows) in runs(&codes) {
        let mut placements = Vec::new();
        for index in rows {
            match episode_of(episodes, first_code, code, day[index]) {
                Err(issue) => items.push(index, issue),
                Ok(episode) if kinds[index] == Some(EventType::Placement) => {
                    placements.push((index, episode))
                }
                Ok(episode) => activity.add(
                    episode,
                    day[index],
                    kinds[index] == Some(EventType::Assessment),
                ),
            }
        }
        let (Some(code), false) = (code, placements.is_empty()) else {
            continue;
        };
        let first = jobs.list.len();
        let made = rules::jobs(placements.iter().map(|&(index, _)| job_ids[index]));
        for (&(index, episode), made) in placements.iter().zip(made) {
            match made {
                Ok(()) => {
                    jobs.rows.push(row(index));
                    jobs.list.push(Job {
                        id: job_ids[index],
                        start_on: day[index],
                    });
                    jobs.episode.push(episode);
                }
                Err(issue) => items.push(index, issue),
            }
        }
        jobs.of_person.push((code, first..jobs.list.len()));
    }
    Ok((activity, jobs))
}

/// Rule 5 over the separations (sorted in walking order): the separation row ending each job.
fn walk_separations(
    separations: &DataFrame,
    jobs: &Jobs<'_>,
    items: &mut Items,
) -> PolarsResult<Vec<Option<IdxSize>>> {
    let codes = person_codes(separations)?;
    let day = day_values(separations, event::OCCURRED_ON)?;
    let job_ids = texts(separations, event::JOB_ID)?;
    let mut ends = vec![None; jobs.list.len()];
    for (code, rows) in runs(&codes) {
        let range = code
            .and_then(|code| {
                jobs.of_person
                    .binary_search_by_key(&code, |(person, _)| *person)
                    .ok()
            })
            .map_or(0..0, |at| jobs.of_person[at].1.clone());
        let decided = rules::separations(
            &jobs.list[range.clone()],
            rows.clone().map(|r| (job_ids[r], day[r])),
        );
        for (index, decided) in rows.zip(decided) {
            match decided {
                Ok(job) => ends[range.start + job] = Some(row(index)),
                Err(issue) => items.push(index, issue),
            }
        }
    }
    Ok(ends)
}

/// `job_seq` and `next_start_on` of every job, episode by episode.
fn sequence(jobs: &Jobs<'_>) -> (Vec<i64>, Vec<Option<Day>>) {
    let mut seq = vec![0; jobs.list.len()];
    let mut next = vec![None; jobs.list.len()];
    for (_, range) in &jobs.of_person {
        let mut done: Vec<usize> = Vec::new();
        for job in range.clone() {
            let episode = jobs.episode[job];
            if done.contains(&episode) {
                continue;
            }
            done.push(episode);
            // The person's jobs are in placement order, which is (start_on, recorded_at,
            // event_id): the order of rule 5 and of `job_seq` alike.
            let of_episode: Vec<usize> = range
                .clone()
                .filter(|&j| jobs.episode[j] == episode)
                .collect();
            let starts: Vec<Day> = of_episode.iter().map(|&j| jobs.list[j].start_on).collect();
            for (&j, (s, n)) in of_episode.iter().zip(rules::job_seq(&starts)) {
                seq[j] = s;
                next[j] = n;
            }
        }
    }
    (seq, next)
}

/// Walks one part: `tokens` (intakes and exits), `activities` (assessments, services,
/// placements) and `separations`, people coded from `first_code` on (`persons` of them); jobs
/// are numbered `_job` from `first_job` on.
pub(crate) fn walk(
    tokens: DataFrame,
    activities: DataFrame,
    separations: DataFrame,
    first_code: IdxSize,
    persons: usize,
    first_job: IdxSize,
) -> PolarsResult<Walked> {
    let tokens = in_walking_order(tokens)?;
    let activities = in_walking_order(activities)?;
    let separations = in_walking_order(separations)?;

    let mut token_items = Items::default();
    let episodes = walk_episodes(&tokens, first_code, persons, &mut token_items)?;
    let mut activity_items = Items::default();
    let (activity, jobs) =
        walk_activities(&activities, &episodes, first_code, &mut activity_items)?;
    let mut separation_items = Items::default();
    let ends = walk_separations(&separations, &jobs, &mut separation_items)?;
    let (seq, next) = sequence(&jobs);

    let episode_frame = episodes_frame(&tokens, &episodes, activity)?;
    let job_no: Vec<i64> = jobs.episode.iter().map(|&e| episodes.spans[e].no).collect();
    let mut job_frame = activities
        .select([
            CONSORTIUM,
            AGENCY,
            PERSON_CODE,
            event::JOB_ID,
            event::EMPLOYER_KEY,
            event::HOURLY_WAGE,
            event::HOURS_PER_WEEK,
            event::COMPETITIVE_INTEGRATED,
        ])?
        .take(&IdxCa::from_vec("".into(), jobs.rows.clone()))?;
    let starts = jobs.list.iter().map(|job| Some(job.start_on));
    let ends = IdxCa::from_iter_options("".into(), ends.into_iter());
    let ended = separations
        .select([event::OCCURRED_ON, event::SEPARATION_REASON])?
        .take(&ends)?;
    let job_index = (0..jobs.list.len()).map(|j| first_job + row(j));
    for column in [
        date_column(c::placements::START_ON, starts),
        Int64Chunked::from_vec(EPISODE_NO.into(), job_no).into_column(),
        Int64Chunked::from_vec(c::placements::JOB_SEQ.into(), seq).into_column(),
        date_column(c::placements::NEXT_START_ON, next.into_iter()),
        ended
            .column(event::OCCURRED_ON)?
            .clone()
            .with_name(c::placements::END_ON.into()),
        ended.column(event::SEPARATION_REASON)?.clone(),
        IdxCa::from_iter_values("_job".into(), job_index).into_column(),
    ] {
        job_frame.with_column(column)?;
    }

    let mut issues = token_items.frame(&tokens)?;
    issues.vstack_mut(&activity_items.frame(&activities)?)?;
    issues.vstack_mut(&separation_items.frame(&separations)?)?;
    Ok(Walked {
        episodes: episode_frame,
        jobs: job_frame,
        issues,
    })
}

fn episodes_frame(
    tokens: &DataFrame,
    episodes: &Episodes,
    activity: Activity,
) -> PolarsResult<DataFrame> {
    let intakes = IdxCa::from_vec("".into(), episodes.intakes.clone());
    let exits = IdxCa::from_iter_options("".into(), episodes.exits.iter().copied());
    let mut frame = tokens
        .select([CONSORTIUM, AGENCY, PERSON_CODE])?
        .take(&intakes)?;
    let closed = tokens
        .select([event::OCCURRED_ON, event::EXIT_OUTCOME])?
        .take(&exits)?;
    let numbers = episodes.spans.iter().map(|span| span.no).collect();
    for column in [
        Int64Chunked::from_vec(EPISODE_NO.into(), numbers).into_column(),
        date_column(
            c::episodes::INTAKE_ON,
            episodes.spans.iter().map(|s| Some(s.intake_on)),
        ),
        closed
            .column(event::OCCURRED_ON)?
            .clone()
            .with_name(c::episodes::EXIT_ON.into()),
        closed.column(event::EXIT_OUTCOME)?.clone(),
        date_column(
            c::episodes::FIRST_ASSESSMENT_ON,
            activity.first_assessment_on.into_iter(),
        ),
        date_column("_first_activity_on", activity.first_activity_on.into_iter()),
        Int64Chunked::from_vec(c::episodes::ASSESSMENTS.into(), activity.assessments).into_column(),
        Int64Chunked::from_vec(c::episodes::SERVICES.into(), activity.services).into_column(),
    ] {
        frame.with_column(column)?;
    }
    Ok(frame)
}
