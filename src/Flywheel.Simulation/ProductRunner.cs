using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Simulation;

/// <summary>
/// Runs one product of a scenario day by day: its users visit, the product asks its own engine (real store on disk, fake
/// clock) to decide, and sends what the users did as signals; at each day's end the engine's turn schedule runs.
/// </summary>
/// <remarks>
/// Runs are reproducible: before the first wave of each part of the day the engine is flushed (every reward due is
/// learned and published), no model is published during the part (a visit's waves span less than the publish
/// interval; <see cref="WorldSettings.Validate"/> keeps it so), and each wave's calls are issued from one thread in a
/// fixed order. The group commits, the reward sequence and what every decision saw are then the same on every run.
/// </remarks>
internal sealed class ProductRunner(FeedWorld world, ProductSpec spec, SimulationOptions options)
{
    public const string LoopId = "home-feed";
    private const int Wave = 2_000;
    private const int SignalBatch = 2_000;
    private static readonly TimeSpan StepInterval = TimeSpan.FromMinutes(2);

    private readonly Market _market = new(world.Settings, options.Seed, spec.Key, options.Users, spec.LaunchDay);
    private readonly List<ProductDay> _days = [];
    private readonly List<SimulatedTurn> _turns = [];
    private readonly Dictionary<int, int> _monthlyActive = [];
    private readonly EngineErrors _errors = new();
    private readonly FakeTimeProvider _time = new(SimulationCalendar.DateOf(Math.Max(1, spec.LaunchDay)));
    private LoopConfig _loop = LoopFor(spec);
    private FlywheelEngine? _engine;
    private int _modelVersion;
    private int _satisfiedYesterday;
    private long _decisionCounter;

    public string DataDirectory { get; } = Path.Combine(options.DataDirectory, spec.Key);

    /// <summary>The loop every product of a feed world declares: the signals the product sends and their weights.</summary>
    public static LoopConfig LoopFor(ProductSpec spec) => new()
    {
        Id = LoopId,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["watch_complete"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
            ["rewatch"] = new() { Kind = SignalKind.Implicit, Weight = 0.5 },
            ["skip"] = new() { Kind = SignalKind.Implicit, Weight = -0.5, ClosesWindow = true },
            ["thumbs_up"] = new() { Kind = SignalKind.Explicit, Weight = 1.0 },
            ["thumbs_down"] = new() { Kind = SignalKind.Explicit, Weight = -1.0 },
            ["return_visit"] = new() { Kind = SignalKind.Implicit, Weight = 0 },
        },
        Reward = new RewardConfig { WindowSeconds = 600, Aggregate = RewardAggregate.Sum, Min = -1, Max = 1, Default = 0 },
        Turns = new TurnsConfig { EverySeconds = TimeSpan.FromDays(30).TotalSeconds, MinDecisions = 1000 },
        Mode = spec.Mode,
    };

    private HealthReport? _health;

    public async Task<ProductResult> RunAsync(Action onDay, CancellationToken cancellationToken)
    {
        try
        {
            for (var day = 1; day <= options.Days; day++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (day < spec.LaunchDay)
                {
                    _days.Add(new ProductDay { Day = day, Launched = false });
                }
                else
                {
                    if (_engine is null)
                    {
                        await LaunchAsync(cancellationToken).ConfigureAwait(false);
                    }
                    _days.Add(await RunDayAsync(day, cancellationToken).ConfigureAwait(false));
                    _errors.ThrowIfAny(spec.Name);
                }
                onDay();
            }
            if (_engine is not null)
            {
                await _engine.FlushAsync(cancellationToken).ConfigureAwait(false);
                _health = await _engine.GetHealthAsync(_loop.Id, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_engine is not null)
            {
                await _engine.DisposeAsync().ConfigureAwait(false);
            }
        }
        return new ProductResult
        {
            Spec = spec,
            Loop = _loop,
            DataDirectory = DataDirectory,
            Days = _days,
            Months = Months.Aggregate(_days, _monthlyActive),
            Turns = _turns,
            Health = _health,
        };
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(DataDirectory);
        // The simulator runs the turn schedule at fixed moments itself. Intervals are on the fake clock, where a day
        // passes in a fraction of a second: one snapshot a simulated day, not one a minute.
        var engineOptions = new FlywheelOptions
        {
            ScheduleTurns = false,
            JoinInterval = TimeSpan.FromMinutes(10),
            PublishInterval = TimeSpan.FromHours(1),
            SnapshotInterval = TimeSpan.FromDays(1),
        }.UseSqlite(DataDirectory);
        _engine = await FlywheelEngine.OpenAsync(engineOptions, _time, _errors, cancellationToken).ConfigureAwait(false);
        await _engine.PutLoopAsync(_loop, cancellationToken).ConfigureAwait(false);
        _modelVersion = (await _engine.ListModelsAsync(LoopId, cancellationToken).ConfigureAwait(false)).Single(m => m.Status == ModelStatus.Champion).Version;
    }

    /// <summary>
    /// Empties a product's folder of an earlier run's store, and refuses a folder holding anything else: a run never
    /// deletes files it did not write.
    /// </summary>
    internal static void ClearStore(string directory)
    {
        if (Directory.Exists(directory))
        {
            var entries = Directory.GetFileSystemEntries(directory);
            var foreign = entries.FirstOrDefault(e => !Path.GetFileName(e).StartsWith("flywheel.db", StringComparison.Ordinal) || Directory.Exists(e));
            if (foreign is not null)
            {
                throw new IOException($"'{directory}' holds '{Path.GetFileName(foreign)}', which is not part of a Flywheel store; choose another folder");
            }
            foreach (var file in entries)
            {
                File.Delete(file);
            }
        }
        Directory.CreateDirectory(directory);
    }

    private sealed class Session(WorldUser user, Features context)
    {
        public WorldUser User { get; } = user;
        public Features Context { get; } = context;
        public HashSet<int> Shown { get; } = [];
        public int Enjoyed { get; set; }
        public bool Done { get; set; }
    }

    private sealed class DayTally
    {
        public int Active, Lost, Returns, Satisfied, TurnsRun, Promoted, RolledBack;
        public long Decisions, Enjoyed, Implicit, Explicit;
        public double RewardSum, RewardSquares, Oracle, Uniform, ServedExpected;
        public SortedDictionary<string, long> Signals { get; } = new(StringComparer.Ordinal);
    }

    private async Task<ProductDay> RunDayAsync(int day, CancellationToken cancellationToken)
    {
        var engine = _engine!;
        var start = SimulationCalendar.DateOf(day);
        var tally = new DayTally();
        if (spec.FreezeDay == day)
        {
            _loop = _loop with { Mode = LoopMode.Frozen };
            await engine.PutLoopAsync(_loop, cancellationToken).ConfigureAwait(false);
        }
        var rivals = spec.ClonedFromDay is { } cloned && day >= cloned ? 1 + (day - cloned) / 61 : 0;
        var arrived = day == spec.LaunchDay ? _market.Users.Count : _market.Arrive(day, _satisfiedYesterday, 1.0 / (1 + rivals)).Count;

        var visitors = new List<WorldUser>[FeedWorld.Dayparts.Length];
        for (var i = 0; i < visitors.Length; i++)
        {
            visitors[i] = [];
        }
        foreach (var user in _market.Users)
        {
            if (!user.Gone && _market.Visits(user, day, out var daypart))
            {
                visitors[daypart].Add(user);
            }
        }
        for (var part = 0; part < visitors.Length; part++)
        {
            if (visitors[part].Count > 0)
            {
                SetTime(start.AddHours(FeedWorld.DaypartHours[part]));
                await RunVisitsAsync(day, part, visitors[part], tally, cancellationToken).ConfigureAwait(false);
            }
        }

        SetTime(start.AddHours(23).AddMinutes(59));
        await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (spec.Turns && _loop.Mode != LoopMode.Frozen)
        {
            await engine.RunScheduledTurnsAsync(cancellationToken).ConfigureAwait(false);
            await CollectTurnsAsync(day, tally, cancellationToken).ConfigureAwait(false);
        }
        if (rivals > 0)
        {
            // Rivals copy the straight line feature for feature; some users drift to them every day.
            foreach (var user in _market.Users)
            {
                if (!user.Gone && _market.Random.Chance(0.002 * rivals))
                {
                    user.Gone = true;
                    tally.Lost++;
                }
            }
        }
        _satisfiedYesterday = tally.Satisfied;
        return new ProductDay
        {
            Day = day,
            Launched = true,
            ActiveUsers = tally.Active,
            Users = _market.Present,
            NewUsers = arrived,
            LostUsers = tally.Lost,
            ReturnVisits = tally.Returns,
            SatisfiedVisits = tally.Satisfied,
            Decisions = tally.Decisions,
            Enjoyed = tally.Enjoyed,
            Signals = tally.Signals,
            ImplicitSignals = tally.Implicit,
            ExplicitSignals = tally.Explicit,
            RewardSum = tally.RewardSum,
            RewardSquares = tally.RewardSquares,
            ExpectedRewardSum = tally.ServedExpected,
            OracleRewardSum = tally.Oracle,
            UniformRewardSum = tally.Uniform,
            ModelVersion = _modelVersion,
            TurnsRun = tally.TurnsRun,
            TurnsPromoted = tally.Promoted,
            RolledBack = tally.RolledBack,
            Rivals = rivals,
        };
    }

    private async Task RunVisitsAsync(int day, int daypart, List<WorldUser> users, DayTally tally, CancellationToken cancellationToken)
    {
        var engine = _engine!;
        var month = SimulationCalendar.MonthOf(day);
        var sessions = new List<Session>(users.Count);
        var signals = new List<SignalInput>();
        foreach (var user in users)
        {
            tally.Active++;
            if (user.LastActiveMonth != month)
            {
                user.LastActiveMonth = month;
                _monthlyActive[month] = _monthlyActive.GetValueOrDefault(month) + 1;
            }
            if (user.LastVisitDay > 0)
            {
                tally.Returns++;
                Count(tally, signals, new SignalInput { SignalId = $"{spec.Key}-{day}-r{user.Index}", UserId = user.Id, Type = "return_visit" }, SignalKind.Implicit);
            }
            user.LastVisitDay = day;
            sessions.Add(new Session(user, FeedWorld.Context(user, daypart)));
        }
        var live = world.Live(day);
        var random = _market.Random;
        var settings = world.Settings;
        for (var step = 0; step < settings.MaxSessionLength && sessions.Count > 0; step++)
        {
            if (step == 0)
            {
                // Every reward due is learned and published before a visit's first wave. Within the few minutes of a
                // visit no model is published (the publish interval is longer), so what each decision saw is reproducible.
                await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _time.Advance(StepInterval);
            }
            var requests = new DecideRequest[sessions.Count];
            var shortlists = new Item[sessions.Count][];
            for (var i = 0; i < sessions.Count; i++)
            {
                shortlists[i] = Candidates(live, sessions[i].Shown, random);
                requests[i] = new DecideRequest
                {
                    DecisionId = spec.Key + "-" + (++_decisionCounter).ToString(CultureInfo.InvariantCulture),
                    UserId = sessions[i].User.Id,
                    Context = sessions[i].Context,
                    Actions = [.. shortlists[i].Select(item => world.Action(item, day))],
                };
            }
            // The previous wave's signals and this wave's decisions share the ingest queue, in this order.
            var sent = SendAsync([.. signals], cancellationToken);
            var decisions = await DecideAllAsync(requests, cancellationToken).ConfigureAwait(false);
            await sent.ConfigureAwait(false);
            signals.Clear();
            for (var i = 0; i < sessions.Count; i++)
            {
                var session = sessions[i];
                var item = Array.Find(shortlists[i], x => x.Id == decisions[i].ChosenActionId)!;
                session.Shown.Add(item.Index);
                var reward = React(session, item, day, decisions[i].DecisionId, random, tally, signals);
                Truth(session.User, shortlists[i], item, day, tally);
                session.Done |= session.Shown.Count >= settings.MaxSessionLength;
                tally.Decisions++;
                tally.RewardSum += reward;
                tally.RewardSquares += reward * reward;
            }
            foreach (var session in sessions)
            {
                if (session.Done)
                {
                    var satisfaction = (double)session.Enjoyed / session.Shown.Count;
                    if (satisfaction >= settings.SatisfiedShare)
                    {
                        tally.Satisfied++;
                    }
                    _market.AfterVisit(session.User, satisfaction);
                    if (session.User.Gone)
                    {
                        tally.Lost++;
                    }
                }
            }
            sessions.RemoveAll(s => s.Done);
        }
        await SendAsync(signals, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What the world knows and the product does not: the expected reward of the best, an average and the served candidate.</summary>
    private void Truth(WorldUser user, Item[] shortlist, Item served, int day, DayTally tally)
    {
        double best = double.MinValue, sum = 0;
        foreach (var item in shortlist)
        {
            var expected = world.ExpectedReward(world.EnjoyProbability(user, item, day));
            best = Math.Max(best, expected);
            sum += expected;
            if (item == served)
            {
                tally.ServedExpected += expected;
            }
        }
        tally.Oracle += best;
        tally.Uniform += sum / shortlist.Length;
    }

    /// <summary>The product's retrieval: a random shortlist of items the user has not been shown in this visit.</summary>
    private Item[] Candidates(Item[] live, HashSet<int> shown, SimRandom random)
    {
        var want = Math.Min(world.Settings.Candidates, live.Length - live.Count(i => shown.Contains(i.Index)));
        var picked = new List<Item>(want);
        var taken = new HashSet<int>(shown);
        while (picked.Count < want)
        {
            var item = live[random.Next(live.Length)];
            if (taken.Add(item.Index))
            {
                picked.Add(item);
            }
        }
        return [.. picked];
    }

    /// <summary>Issues the decisions in order from this thread, in waves the ingest queue can hold, and awaits them.</summary>
    private async Task<Decision[]> DecideAllAsync(DecideRequest[] requests, CancellationToken cancellationToken)
    {
        var engine = _engine!;
        var results = new Decision[requests.Length];
        var pending = new ValueTask<Decision>[Math.Min(Wave, requests.Length)];
        for (var first = 0; first < requests.Length; first += Wave)
        {
            var count = Math.Min(Wave, requests.Length - first);
            for (var i = 0; i < count; i++)
            {
                pending[i] = engine.DecideAsync(LoopId, requests[first + i], cancellationToken);
            }
            for (var i = 0; i < count; i++)
            {
                results[first + i] = await pending[i].ConfigureAwait(false);
            }
        }
        return results;
    }

    /// <summary>What the user does with the item, as signals (explicit ones before the skip that closes the window); returns the reward.</summary>
    private double React(Session session, Item item, int day, string decisionId, SimRandom random, DayTally tally, List<SignalInput> signals)
    {
        var s = world.Settings;
        var p = world.EnjoyProbability(session.User, item, day);
        var fired = new List<(string Type, double Value)>(3);
        void Fire(string type, SignalKind kind)
        {
            fired.Add((type, 1.0));
            Count(tally, signals, new SignalInput { SignalId = decisionId + "-" + fired.Count.ToString(CultureInfo.InvariantCulture), DecisionId = decisionId, Type = type }, kind);
        }
        if (random.Chance(p))
        {
            session.Enjoyed++;
            tally.Enjoyed++;
            Fire("watch_complete", SignalKind.Implicit);
            if (random.Chance(s.RewatchRate * p))
            {
                Fire("rewatch", SignalKind.Implicit);
            }
            if (random.Chance(s.ThumbsUpRate))
            {
                Fire("thumbs_up", SignalKind.Explicit);
            }
            session.Done = !random.Chance(s.ContinueAfterEngaged);
        }
        else
        {
            if (random.Chance(s.ThumbsDownRate))
            {
                Fire("thumbs_down", SignalKind.Explicit);
            }
            if (random.Chance(s.SkipRate))
            {
                Fire("skip", SignalKind.Implicit);
            }
            session.Done = !random.Chance(s.ContinueAfterSkip);
        }
        return RewardRule.Compute(_loop, fired);
    }

    /// <summary>Counts a signal the user left, and queues it for the engine when the product captures signals.</summary>
    private void Count(DayTally tally, List<SignalInput> signals, SignalInput signal, SignalKind kind)
    {
        if (!spec.CapturesSignals)
        {
            return;
        }
        signals.Add(signal);
        tally.Signals[signal.Type] = tally.Signals.GetValueOrDefault(signal.Type) + 1;
        if (kind == SignalKind.Implicit)
        {
            tally.Implicit++;
        }
        else
        {
            tally.Explicit++;
        }
    }

    /// <summary>Enqueues every batch before the first await, so the calls reach the ingest queue in order.</summary>
    private Task SendAsync(List<SignalInput> signals, CancellationToken cancellationToken)
    {
        if (signals.Count == 0)
        {
            return Task.CompletedTask;
        }
        var calls = new List<Task>();
        for (var first = 0; first < signals.Count; first += SignalBatch)
        {
            var batch = signals.GetRange(first, Math.Min(SignalBatch, signals.Count - first));
            calls.Add(_engine!.RecordSignalsAsync(LoopId, batch, cancellationToken).AsTask());
        }
        return Task.WhenAll(calls);
    }

    private async Task CollectTurnsAsync(int day, DayTally tally, CancellationToken cancellationToken)
    {
        var ledger = await _engine!.ListTurnsAsync(LoopId, cancellationToken).ConfigureAwait(false);
        foreach (var turn in ledger.Skip(_turns.Count))
        {
            _turns.Add(new SimulatedTurn(day, turn));
            switch (turn.Verdict)
            {
                case TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated:
                    tally.TurnsRun += turn.Verdict == TurnVerdict.Promoted ? 1 : 0;
                    tally.Promoted++;
                    break;
                case TurnVerdict.Rejected or TurnVerdict.AwaitingManualPromotion:
                    tally.TurnsRun++;
                    break;
                case TurnVerdict.RolledBack:
                    tally.RolledBack++;
                    break;
            }
            if (turn.DeployedVersion is { } deployed)
            {
                _modelVersion = deployed;
            }
        }
    }

    private void SetTime(DateTimeOffset at)
    {
        if (at > _time.GetUtcNow())
        {
            _time.SetUtcNow(at);
        }
    }
}
