using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.TestUtils;

/// <summary>Drives loops of an engine through a <see cref="CombinationWorld"/> on a fake clock, one decision a second.</summary>
public sealed class WorldRunner(IFlywheelEngine engine, FakeTimeProvider time, CombinationWorld world)
{
    private readonly PriorityQueue<(string Loop, SignalInput Signal), DateTimeOffset> _due = new();
    private int _round;

    /// <summary>The expected reward of each served action, per loop, in round order.</summary>
    public Dictionary<string, List<double>> Rewards { get; } = [];

    public List<(string Loop, string DecisionId)> Decisions { get; } = [];

    public List<(string Loop, string SignalId)> Signals { get; } = [];

    /// <summary>The product's baseline action for a context, sent with every decision when set.</summary>
    public Func<(int Country, int Slot), string>? Baseline { get; set; }

    /// <summary>Called after each acknowledged decision ('D') and signal ('S') with its id.</summary>
    public Action<char, string, string>? OnAcknowledged { get; set; }

    public async Task RunAsync(IReadOnlyList<string> loops, int rounds, int flushEvery = 50)
    {
        foreach (var loop in loops)
        {
            if (!Rewards.ContainsKey(loop))
            {
                Rewards[loop] = [];
            }
        }
        for (var end = _round + rounds; _round < end; _round++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await DeliverDueSignalsAsync();
            if (flushEvery == 1)
            {
                // Every decision then sees a model that has learned exactly the rewards closed before it: reproducible runs.
                await engine.FlushAsync();
            }
            var ctx = world.NextContext();
            var context = CombinationWorld.Context(ctx);
            var decisions = await Task.WhenAll(loops.Select(loop => engine.DecideAsync(loop, new DecideRequest
            {
                DecisionId = $"d{_round}",
                UserId = $"u{_round % 97}",
                Context = context,
                Actions = CombinationWorld.Actions,
                BaselineActionId = Baseline?.Invoke(ctx),
            }).AsTask()));
            foreach (var d in decisions)
            {
                Decisions.Add((d.Loop, d.DecisionId));
                OnAcknowledged?.Invoke('D', d.Loop, d.DecisionId);
                var action = int.Parse(d.ChosenActionId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                Rewards[d.Loop].Add(world.ExpectedReward(ctx, action));
                var i = 0;
                foreach (var (delay, type) in world.React(ctx, action))
                {
                    _due.Enqueue((d.Loop, new SignalInput { SignalId = $"{d.DecisionId}-{i++}", DecisionId = d.DecisionId, Type = type }),
                        time.GetUtcNow() + TimeSpan.FromSeconds(delay));
                }
            }
            if (_round % flushEvery == 0)
            {
                await engine.FlushAsync();
            }
        }
        await engine.FlushAsync();
    }

    private async Task DeliverDueSignalsAsync()
    {
        var now = time.GetUtcNow();
        var batches = new Dictionary<string, List<SignalInput>>();
        while (_due.TryPeek(out var item, out var at) && at <= now)
        {
            _due.Dequeue();
            if (!batches.TryGetValue(item.Loop, out var list))
            {
                batches[item.Loop] = list = [];
            }
            list.Add(item.Signal with { At = at });
        }
        foreach (var (loop, list) in batches)
        {
            await engine.RecordSignalsAsync(loop, list);
            foreach (var s in list)
            {
                Signals.Add((loop, s.SignalId!));
                OnAcknowledged?.Invoke('S', loop, s.SignalId!);
            }
        }
    }
}
