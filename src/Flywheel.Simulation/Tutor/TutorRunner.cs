using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Simulation.Tutor;

/// <summary>
/// Runs one policy of the tutor scenario day by day on its own engine (SQLite store on disk, fake clock). Each day at
/// 06:00 the <c>reminders</c> loop decides for every lapsed learner; learners then practise at 08:00 or 19:00 by habit
/// (or because a reminder brought them back, which the product reports as <c>returned</c>). A session is a run of
/// exercises picked by the policy; under the loop each is a decision of the <c>tutor</c> loop and each answer goes back
/// as <c>correct</c>.
/// </summary>
/// <remarks>
/// Reproducible as <see cref="Search.SearchRunner"/> is. Sessions of one time of day run side by side in waves: wave k
/// is every open session's k-th exercise, at one simulated moment. Before each wave the clock moves on and the engine is
/// flushed, so every answer of the wave before has been learned (the ability policy reads the live estimates); within a
/// wave no answer is sent before every decision of the wave is made, and each wave's calls are issued from one thread
/// in a fixed order. Every learner draws from streams of their own (attendance, answers, random picks) that take the
/// same number of draws whatever the policy does, so policies meet the same people with the same dice.
/// </remarks>
internal sealed class TutorRunner(TutorWorld world, TutorPolicy policy, TutorOptions options)
{
    /// <summary>Simulated seconds between two exercises of a session.</summary>
    public const int SecondsPerExercise = 40;

    /// <summary>The hour (UTC) at which the reminder loop decides for the day.</summary>
    public const int ReminderHour = 6;

    private readonly FakeTimeProvider _time = new(SimulationCalendar.Start);
    private readonly EngineErrors _errors = new();
    private readonly List<TutorDay> _days = [];
    private FlywheelEngine? _engine;
    private long _decisions;
    private long _explored;

    public string DataDirectory { get; } = Path.Combine(options.DataDirectory, TutorSimulation.PolicyName(policy));

    private bool UsesEngine => policy == TutorPolicy.Loop || options.Reminders;

    public async Task<TutorArmResult> RunAsync(Action onDay, CancellationToken cancellationToken)
    {
        var settings = world.Settings;
        var learners = world.Learners.Select(p => new Learner(p, world.Items.Count, settings.Topics, options.Seed)).ToArray();
        var loops = new List<LoopConfig>();
        if (policy == TutorPolicy.Loop)
        {
            loops.Add(TutorSimulation.TutorLoop(options));
        }
        if (options.Reminders)
        {
            loops.Add(TutorSimulation.ReminderLoop());
        }
        var reminderPolicy = new List<TutorReminderPolicy>();
        try
        {
            if (UsesEngine)
            {
                Directory.CreateDirectory(DataDirectory);
                var engineOptions = new FlywheelOptions
                {
                    ScheduleTurns = false,
                    JoinInterval = TimeSpan.FromSeconds(10),
                    PublishInterval = TimeSpan.FromHours(1),
                    SnapshotInterval = TimeSpan.FromDays(1),
                    SnapshotEveryExamples = 1_000_000,
                    ExplorationSeed = SimRandom.Fork(options.Seed, "tutor-exploration").NextUInt64(),
                }.UseSqlite(DataDirectory);
                _engine = await FlywheelEngine.OpenAsync(engineOptions, _time, _errors, cancellationToken).ConfigureAwait(false);
                foreach (var loop in loops)
                {
                    await _engine.PutLoopAsync(loop, cancellationToken).ConfigureAwait(false);
                }
            }
            for (var day = 1; day <= options.Days; day++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _days.Add(await RunDayAsync(day, learners, cancellationToken).ConfigureAwait(false));
                _errors.ThrowIfAny(TutorSimulation.PolicyName(policy));
                onDay();
            }
            if (_engine is not null)
            {
                // The last reminders' windows close before anything is read.
                SetTime(SimulationCalendar.DateOf(options.Days + 1).AddHours(ReminderHour).AddSeconds(1));
                await _engine.FlushAsync(cancellationToken).ConfigureAwait(false);
                _errors.ThrowIfAny(TutorSimulation.PolicyName(policy));
                if (policy == TutorPolicy.Loop)
                {
                    foreach (var learner in learners.Where(l => l.Answers > 0))
                    {
                        var report = await _engine.GetLearnerAsync(TutorSimulation.TutorLoopId, TutorWorld.UserId(learner.Profile.Index), cancellationToken).ConfigureAwait(false);
                        (learner.Estimate, learner.EstimateError) = (report.Ability.Value, report.Ability.StandardError);
                    }
                }
                if (options.Reminders)
                {
                    reminderPolicy.AddRange(await ProbeRemindersAsync(cancellationToken).ConfigureAwait(false));
                }
            }
        }
        finally
        {
            if (_engine is not null)
            {
                await _engine.DisposeAsync().ConfigureAwait(false);
            }
        }
        return new TutorArmResult
        {
            Policy = policy,
            DataDirectory = UsesEngine ? DataDirectory : null,
            Loops = loops,
            Learners = [.. learners.Select(l => l.Outcome())],
            Days = _days,
            Decisions = _decisions,
            Explored = _explored,
            ReminderPolicy = reminderPolicy,
        };
    }

    private async Task<TutorDay> RunDayAsync(int day, Learner[] learners, CancellationToken cancellationToken)
    {
        var settings = world.Settings;
        var date = SimulationCalendar.DateOf(day);
        var active = learners.Count(l => !l.Quit);
        var sent = new int[TutorSimulation.ReminderActions.Count];
        var returned = new int[sent.Length];
        var matched = 0;
        var lapsedByTime = new int[2];
        var matchedProbability = new double[2];

        // 06:00: every reward due is learned, then each lapsed learner's reminder is decided.
        SetTime(date.AddHours(ReminderHour));
        if (_engine is not null)
        {
            await _engine.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        var reminders = new Dictionary<int, Decision>();
        if (options.Reminders)
        {
            var lapsed = learners.Where(l => !l.Quit && l.Away(day) >= 1).ToArray();
            var pending = new ValueTask<Decision>[lapsed.Length];
            for (var i = 0; i < lapsed.Length; i++)
            {
                var l = lapsed[i];
                var id = "r" + day.ToString(CultureInfo.InvariantCulture) + "-" + l.Profile.Index.ToString(CultureInfo.InvariantCulture);
                pending[i] = _engine!.DecideAsync(TutorSimulation.ReminderLoopId, TutorSimulation.ReminderRequest(id, TutorWorld.UserId(l.Profile.Index), l.Profile.Time), cancellationToken);
            }
            for (var i = 0; i < lapsed.Length; i++)
            {
                var decision = await pending[i].ConfigureAwait(false);
                reminders[lapsed[i].Profile.Index] = decision;
                var action = IndexOfAction(decision.ChosenActionId);
                sent[action]++;
                matched += TutorSimulation.ReminderTime(decision.ChosenActionId) == lapsed[i].Profile.Time ? 1 : 0;
                var own = TutorSimulation.TimeName(lapsed[i].Profile.Time);
                lapsedByTime[(int)lapsed[i].Profile.Time]++;
                matchedProbability[(int)lapsed[i].Profile.Time] += decision.Ranking.Single(r => r.ActionId == own).Probability;
            }
        }

        // Who practises today: by habit, faded by the days away, or brought back by a reminder.
        var practising = new List<Learner>();
        foreach (var l in learners)
        {
            // Two draws a day whatever happens, so every policy's learner stays in step.
            var (habit, reminded) = (l.Attendance.NextDouble(), l.Attendance.NextDouble());
            if (l.Quit)
            {
                continue;
            }
            var reminder = reminders.TryGetValue(l.Profile.Index, out var d) ? TutorSimulation.ReminderTime(d.ChosenActionId) : null;
            if (habit < world.PracticeChance(l.Profile.Habit, l.Away(day)) || reminded < world.ReturnChance(l.Profile.Time, reminder))
            {
                practising.Add(l);
                if (d is not null)
                {
                    returned[IndexOfAction(d.ChosenActionId)]++;
                }
            }
        }

        long answers = 0, correct = 0;
        var quits = 0;
        foreach (var time in new[] { PracticeTime.Morning, PracticeTime.Evening })
        {
            var sessions = practising.Where(l => l.Profile.Time == time).ToList();
            if (sessions.Count == 0)
            {
                continue;
            }
            var start = date.AddHours(TutorWorld.HourOf(time));
            SetTime(start);
            var returns = sessions
                .Where(l => reminders.ContainsKey(l.Profile.Index))
                .Select(l => new SignalInput { SignalId = "ret-" + reminders[l.Profile.Index].DecisionId, DecisionId = reminders[l.Profile.Index].DecisionId, Type = TutorSimulation.ReturnedSignal })
                .ToList();
            await RecordAsync(TutorSimulation.ReminderLoopId, returns, cancellationToken).ConfigureAwait(false);
            foreach (var l in sessions)
            {
                l.StartSession(day);
            }
            for (var k = 0; k < settings.SessionLength; k++)
            {
                var open = sessions.Where(l => l.InSession).ToArray();
                if (open.Length == 0)
                {
                    break;
                }
                var at = start.AddSeconds(k * SecondsPerExercise);
                SetTime(at);
                var items = await PickAsync(open, cancellationToken).ConfigureAwait(false);
                var signals = new List<SignalInput>(open.Length);
                for (var i = 0; i < open.Length; i++)
                {
                    var l = open[i];
                    var (right, quit) = Answer(l, items[i].Item, at, day);
                    answers++;
                    correct += right ? 1 : 0;
                    quits += quit ? 1 : 0;
                    if (items[i].DecisionId is { } decisionId)
                    {
                        signals.Add(new SignalInput { SignalId = decisionId + "-a", DecisionId = decisionId, Type = TutorSimulation.CorrectSignal, Value = right ? 1 : 0 });
                    }
                }
                await RecordAsync(TutorSimulation.TutorLoopId, signals, cancellationToken).ConfigureAwait(false);
            }
        }
        return new TutorDay
        {
            Day = day,
            Active = active,
            Practised = practising.Count,
            Answers = answers,
            Correct = correct,
            Quits = quits,
            QuitSoFar = learners.Count(l => l.Quit),
            MeanGain = learners.Average(l => l.Ability - l.Profile.Ability),
            Reminders = sent,
            Returned = returned,
            Matched = matched,
            LapsedByTime = lapsedByTime,
            MatchedProbability = matchedProbability,
        };
    }

    /// <summary>Each open session's next item: the loop's decisions (all made before any is answered), or the baseline's pick.</summary>
    private async Task<(int Item, string? DecisionId)[]> PickAsync(Learner[] open, CancellationToken cancellationToken)
    {
        var picks = new (int, string?)[open.Length];
        if (policy != TutorPolicy.Loop)
        {
            for (var i = 0; i < open.Length; i++)
            {
                picks[i] = (policy == TutorPolicy.Random ? RandomPick(open[i]) : CurriculumPick(open[i]), null);
            }
            return picks;
        }
        await _engine!.FlushAsync(cancellationToken).ConfigureAwait(false);
        var pending = new ValueTask<Decision>[open.Length];
        for (var i = 0; i < open.Length; i++)
        {
            var l = open[i];
            var request = new DecideRequest
            {
                DecisionId = "a" + l.Profile.Index.ToString(CultureInfo.InvariantCulture) + "-" + l.Answers.ToString(CultureInfo.InvariantCulture),
                UserId = TutorWorld.UserId(l.Profile.Index),
                Context = new Features(),
                Actions = [.. Candidates(l).Select(world.Action)],
            };
            pending[i] = _engine.DecideAsync(TutorSimulation.TutorLoopId, request, cancellationToken);
        }
        for (var i = 0; i < open.Length; i++)
        {
            var decision = await pending[i].ConfigureAwait(false);
            _decisions++;
            _explored += decision.Explored ? 1 : 0;
            picks[i] = (TutorWorld.ItemOf(decision.ChosenActionId), decision.DecisionId);
        }
        return picks;
    }

    /// <summary>The items the product offers: the session's topic, less the items already answered in the session.</summary>
    private IEnumerable<int> Candidates(Learner l) => world.Topic(l.SessionTopic).Where(i => !l.SessionItems.Contains(i));

    private int RandomPick(Learner l)
    {
        var candidates = Candidates(l).ToArray();
        return candidates[l.Choice.Next(candidates.Length)];
    }

    private int CurriculumPick(Learner l)
    {
        var curriculum = world.Curriculum;
        return curriculum[l.CurriculumPosition++ % curriculum.Count];
    }

    /// <summary>The learner answers <paramref name="item"/>: right with the Rasch probability, learns, remembers, and may end the session or quit.</summary>
    private (bool Right, bool Quit) Answer(Learner l, int item, DateTimeOffset at, int day)
    {
        var settings = world.Settings;
        var now = (at - SimulationCalendar.Start).TotalDays;
        var p = world.Success(l.Ability, item, world.Memory(l.Practices[item], now - l.LastPractised[item]));
        // Two draws an answer whatever happens: the answer, then the mood.
        var (answer, mood) = (l.Answering.NextDouble(), l.Answering.NextDouble());
        var right = answer < p;
        l.Ability += world.Growth(p);
        l.Practices[item]++;
        l.LastPractised[item] = now;
        l.SessionItems.Add(item);
        l.Answers++;
        l.Correct += right ? 1 : 0;
        if (l.Answers > options.WarmUpAnswers)
        {
            l.AnswersAfterWarmUp++;
            l.CorrectAfterWarmUp += right ? 1 : 0;
        }
        if (right)
        {
            l.WrongRun = 0;
            l.EasyRun = p > settings.TooEasy ? l.EasyRun + 1 : 0;
        }
        else
        {
            l.WrongRun++;
            l.EasyRun = 0;
        }
        var quit = false;
        if (l.WrongRun >= settings.FailRun)
        {
            l.InSession = false;
            quit = mood < settings.QuitAfterFailRun;
            l.Quits(quit ? TutorQuit.Failures : TutorQuit.None, day);
        }
        else if (l.EasyRun >= settings.BoredRun)
        {
            l.InSession = false;
            quit = mood < settings.QuitAfterBoredRun;
            l.Quits(quit ? TutorQuit.Boredom : TutorQuit.None, day);
        }
        else if (l.SessionItems.Count >= settings.SessionLength)
        {
            l.InSession = false;
        }
        return (right, quit);
    }

    private async Task RecordAsync(string loop, List<SignalInput> signals, CancellationToken cancellationToken)
    {
        if (signals.Count == 0)
        {
            return;
        }
        var recorded = await _engine!.RecordSignalsAsync(loop, signals, cancellationToken).ConfigureAwait(false);
        if (recorded.Accepted != signals.Count || recorded.Late + recorded.Orphaned > 0)
        {
            // Every signal names an open decision of this run: anything else is a bug in the run.
            throw new InvalidOperationException($"policy {TutorSimulation.PolicyName(policy)}, loop {loop}: {recorded.Accepted} of {signals.Count} signals accepted ({recorded.Duplicates} duplicate, {recorded.Orphaned} orphaned, {recorded.Late} late)");
        }
    }

    /// <summary>What the reminder loop now serves a lapsed learner of each practice time: its probability of each reminder.</summary>
    private async Task<List<TutorReminderPolicy>> ProbeRemindersAsync(CancellationToken cancellationToken)
    {
        var probes = new List<TutorReminderPolicy>();
        foreach (var time in new[] { PracticeTime.Morning, PracticeTime.Evening })
        {
            var name = TutorSimulation.TimeName(time);
            var decision = await _engine!.DecideAsync(TutorSimulation.ReminderLoopId, TutorSimulation.ReminderRequest("probe-" + name, "probe-" + name, time), cancellationToken).ConfigureAwait(false);
            var probabilities = TutorSimulation.ReminderActions.Select(a => decision.Ranking.Single(r => r.ActionId == a).Probability).ToArray();
            probes.Add(new TutorReminderPolicy(time, probabilities));
        }
        return probes;
    }

    private static int IndexOfAction(string action)
    {
        for (var i = 0; i < TutorSimulation.ReminderActions.Count; i++)
        {
            if (TutorSimulation.ReminderActions[i] == action)
            {
                return i;
            }
        }
        throw new InvalidOperationException($"the reminder loop served '{action}', which it was not offered");
    }

    private void SetTime(DateTimeOffset at)
    {
        if (at > _time.GetUtcNow())
        {
            _time.SetUtcNow(at);
        }
    }

    /// <summary>One learner's state under one policy.</summary>
    private sealed class Learner(TutorLearnerProfile profile, int items, int topics, ulong seed)
    {
        private readonly string _key = profile.Index.ToString(CultureInfo.InvariantCulture);
        private int _lastDay;
        private TutorQuit _quit;
        private int _quitDay;
        private int _sessions;
        private int _daysPractised;

        public TutorLearnerProfile Profile { get; } = profile;

        public double Ability { get; set; } = profile.Ability;

        public SimRandom Attendance { get; } = SimRandom.Fork(seed, "tutor-attendance-" + profile.Index.ToString(CultureInfo.InvariantCulture));

        public SimRandom Answering { get; } = SimRandom.Fork(seed, "tutor-answers-" + profile.Index.ToString(CultureInfo.InvariantCulture));

        public SimRandom Choice { get; } = SimRandom.Fork(seed, "tutor-random-" + profile.Index.ToString(CultureInfo.InvariantCulture));

        public int[] Practices { get; } = new int[items];

        public double[] LastPractised { get; } = new double[items];

        public HashSet<int> SessionItems { get; } = [];

        public bool InSession { get; set; }

        public int SessionTopic { get; private set; }

        public int CurriculumPosition { get; set; }

        public int Answers { get; set; }

        public int Correct { get; set; }

        public int AnswersAfterWarmUp { get; set; }

        public int CorrectAfterWarmUp { get; set; }

        public int WrongRun { get; set; }

        public int EasyRun { get; set; }

        public double Estimate { get; set; } = double.NaN;

        public double EstimateError { get; set; } = double.NaN;

        public bool Quit => _quit != TutorQuit.None;

        /// <summary>Days missed since the last practice (or since joining on day 1).</summary>
        public int Away(int day) => day - _lastDay - 1;

        public void StartSession(int day)
        {
            _lastDay = day;
            _daysPractised++;
            // Learners start on different topics, so that every topic is practised from the first day.
            SessionTopic = (_sessions++ + Profile.Index) % topics;
            SessionItems.Clear();
            InSession = true;
            WrongRun = 0;
            EasyRun = 0;
        }

        public void Quits(TutorQuit reason, int day)
        {
            if (reason != TutorQuit.None)
            {
                (_quit, _quitDay) = (reason, day);
            }
        }

        public TutorLearnerOutcome Outcome() => new()
        {
            Learner = Profile.Index,
            UserId = "u" + _key,
            Time = Profile.Time,
            Habit = Profile.Habit,
            StartAbility = Profile.Ability,
            EndAbility = Ability,
            Answers = Answers,
            Correct = Correct,
            AnswersAfterWarmUp = AnswersAfterWarmUp,
            CorrectAfterWarmUp = CorrectAfterWarmUp,
            DaysPractised = _daysPractised,
            Quit = _quit,
            QuitDay = _quit == TutorQuit.None ? null : _quitDay,
            Estimate = Estimate,
            EstimateError = EstimateError,
        };
    }
}
