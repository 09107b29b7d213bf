using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

public sealed class DriftWatchTests
{
    private static readonly RewardConfig ZeroOne = new() { Min = 0, Max = 1 };

    /// <summary>Feeds Bernoulli(p) rewards (scaled into the range) from sequence <paramref name="first"/>; answers the alarms.</summary>
    private static List<DriftAlarm> Feed(DriftWatch watch, Random random, long first, int count, Func<long, double> p, RewardConfig range)
    {
        var alarms = new List<DriftAlarm>();
        for (var s = first; s < first + count; s++)
        {
            var reward = random.NextDouble() < p(s) ? range.Max : range.Min;
            if (watch.Observe(s, reward, range) is { } alarm)
            {
                alarms.Add(alarm);
            }
        }
        return alarms;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_RewardDrops_RaisesOneAlarmNamingTheChange(int seed)
    {
        var watch = new DriftWatch();
        var random = new Random(seed);

        var alarms = Feed(watch, random, 1, 5000, _ => 0.8, ZeroOne);
        alarms.AddRange(Feed(watch, random, 5001, 20_000, _ => 0.4, ZeroOne));

        var alarm = Assert.Single(alarms);
        Assert.InRange(alarm.ChangeSequence, 4800, 5100);
        Assert.InRange(alarm.DetectedSequence, 5001, 5400);
        Assert.InRange(alarm.MeanBefore, 0.74, 0.86);
        Assert.InRange(alarm.MeanAfter, 0.3, 0.65);
        Assert.Equal(alarm.DetectedSequence - alarm.ChangeSequence, alarm.RewardsAfter);
        Assert.Same(alarm, watch.Pending);
        Assert.Contains("the reward fell from 0.", alarm.Describe(), StringComparison.Ordinal);
        Assert.Contains($"found at reward {alarm.DetectedSequence}", alarm.Describe(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5, 0.0, 1.0)]
    [InlineData(0.7, -0.2, 1.0)]
    [InlineData(0.3, -1.0, 1.0)]
    public void Observe_StableNoisyStream_NeverAlarms(double p, double min, double max)
    {
        var watch = new DriftWatch();
        var range = new RewardConfig { Min = min, Max = max };

        var alarms = Feed(watch, new Random(11), 1, 300_000, _ => p, range);

        Assert.Empty(alarms);
        Assert.Null(watch.Pending);
    }

    [Fact]
    public void Observe_RewardRises_NeverAlarms()
    {
        var watch = new DriftWatch();

        // A learning curve: from 0.2 to 0.9 over 20,000 rewards, then steady.
        var alarms = Feed(watch, new Random(5), 1, 60_000, s => Math.Min(0.9, 0.2 + 0.7 * s / 20_000), ZeroOne);

        Assert.Empty(alarms);
    }

    [Fact]
    public void Observe_OneGradualDrop_AlarmsOnce()
    {
        var watch = new DriftWatch();

        // 0.9 for 10,000 rewards, down to 0.3 over the next 2,000 (rewards of older decisions still arriving), then steady.
        var alarms = Feed(watch, new Random(7), 1, 60_000, s => s <= 10_000 ? 0.9 : Math.Max(0.3, 0.9 - 0.6 * (s - 10_000) / 2000.0), ZeroOne);

        var alarm = Assert.Single(alarms);
        Assert.InRange(alarm.ChangeSequence, 9500, 11_000);
        Assert.Equal(1, watch.Alarms);
    }

    [Fact]
    public void Observe_TwoSeparateDrops_AlarmsTwice()
    {
        var watch = new DriftWatch();
        var random = new Random(9);

        var alarms = Feed(watch, random, 1, 10_000, _ => 0.9, ZeroOne);
        alarms.AddRange(Feed(watch, random, 10_001, 10_000, _ => 0.5, ZeroOne));
        alarms.AddRange(Feed(watch, random, 20_001, 10_000, _ => 0.1, ZeroOne));

        Assert.Equal(2, alarms.Count);
        Assert.InRange(alarms[0].ChangeSequence, 9800, 10_100);
        Assert.InRange(alarms[1].ChangeSequence, 19_500, 20_100);
    }

    [Fact]
    public void Observe_NewChampionServesWorse_IsNotDrift()
    {
        var watch = new DriftWatch();
        var random = new Random(13);
        for (var s = 1; s <= 10_000; s++)
        {
            Assert.Null(watch.Observe(s, random.NextDouble() < 0.9 ? 1 : 0, ZeroOne, servedBy: 1, serving: 1));
        }

        // v2 now serves, worse; the late rewards of v1's decisions are left out, and v2's stream starts afresh.
        for (var s = 10_001; s <= 30_000; s++)
        {
            var servedBy = s < 10_600 && s % 2 == 0 ? 1 : 2;
            Assert.Null(watch.Observe(s, random.NextDouble() < (servedBy == 1 ? 0.0 : 0.3) ? 1 : 0, ZeroOne, servedBy, serving: 2));
        }

        Assert.Equal(0, watch.Alarms);
    }

    [Fact]
    public void Observe_EarlyClosingPositivesAfterADeploy_AreNotADrop()
    {
        // Clicks close their window at once; the windows without one run out after 600 s. Right after v2 starts, the
        // rewards that close are nearly all clicks; then the no-clicks arrive and the mean falls to its level, 0.3.
        var watch = new DriftWatch();
        var range = new RewardConfig { Min = 0, Max = 1, WindowSeconds = 600 };
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(17);
        var closing = new PriorityQueue<(DateTimeOffset At, double Reward), DateTimeOffset>();
        long sequence = 0;
        for (var t = 0; t < 20_000; t++)
        {
            var at = start.AddSeconds(t);
            var click = random.NextDouble() < 0.3;
            closing.Enqueue((at, click ? 1 : 0), click ? at.AddSeconds(2) : at.AddSeconds(600));
            while (closing.TryPeek(out var item, out var closedAt) && closedAt <= at)
            {
                closing.Dequeue();
                Assert.Null(watch.Observe(++sequence, item.Reward, range, servedBy: 2, serving: 2, item.At, closedAt));
            }
        }

        Assert.Equal(0, watch.Alarms);
    }

    /// <summary>
    /// A product on a 30-second reward window: a share of decisions is skipped (reward 0, closing its window a second
    /// later), the rest time out with a reward of 1 w.p. 0.7, else 0.3. Decisions come at <paramref name="rate"/> per
    /// second (of time t), the skip share is <paramref name="skip"/>(t); the learner reads rewards in closing order.
    /// Answers the alarms; with <paramref name="counted"/> the writer's decision counts reach the watch.
    /// </summary>
    private static (List<(DriftAlarm Alarm, double At)> Alarms, DriftWatch Watch) Product(Func<double, double> rate, Func<double, double> skip, int seconds, bool counted, int seed, Func<double, double>? liked = null)
    {
        liked ??= _ => 0.7;
        var watch = new DriftWatch();
        var range = new RewardConfig { Min = 0, Max = 1, WindowSeconds = 30 };
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(seed);
        var closing = new PriorityQueue<(DateTimeOffset Decided, double Reward), DateTimeOffset>();
        var alarms = new List<(DriftAlarm, double)>();
        long sequence = 0;
        const int Steps = 10;
        for (var step = 0; step < seconds * Steps; step++)
        {
            var t = (double)step / Steps;
            var now = start.AddSeconds(t);
            var carry = rate(t) / Steps;
            var count = (int)carry + (random.NextDouble() < carry - (int)carry ? 1 : 0);
            for (var k = 0; k < count; k++)
            {
                if (counted)
                {
                    watch.Decided(now, version: 1, range.WindowSeconds);
                }
                if (random.NextDouble() < skip(t))
                {
                    closing.Enqueue((now, 0), now.AddSeconds(1));
                }
                else
                {
                    closing.Enqueue((now, random.NextDouble() < liked(t) ? 1 : 0.3), now.AddSeconds(30));
                }
            }
            while (closing.TryPeek(out var item, out var closedAt) && closedAt <= now)
            {
                closing.Dequeue();
                if (watch.Observe(++sequence, item.Reward, range, servedBy: 1, serving: 1, item.Decided, closedAt) is { } alarm)
                {
                    alarms.Add((alarm, t));
                }
            }
        }
        return (alarms, watch);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_TimedOutRewardsFallFromOneMoment_AlarmsAboutAWindowLater(int seed)
    {
        // The skips stay at 0.4; from t = 500 the windows that run out earn 1 w.p. 0.2 instead of 0.8: nothing shows
        // until those windows close, 30 s later, and then only in the time-outs.
        static double Liked(double t) => t < 500 ? 0.8 : 0.2;
        var (alarms, watch) = Product(Bursty, _ => 0.4, 900, counted: true, seed, Liked);

        var (alarm, at) = Assert.Single(alarms);
        Assert.InRange(at, 530, 600);
        Assert.True(alarm.MeanAfter < alarm.MeanBefore - 0.1, alarm.Describe());
        Assert.True(watch.Dismissed >= 1, "the bursts raised no suspicion to dismiss");
    }

    /// <summary>100 decisions a second with a burst at three times that, a stall and its catch-up, another burst.</summary>
    private static double Bursty(double t) => t switch
    {
        >= 200 and < 215 => 300,
        >= 400 and < 408 => 0,
        >= 408 and < 416 => 200,
        >= 600 and < 640 => 250,
        _ => 100,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_BurstsAndStallsInASteadyWorld_AreNotADrop(int seed)
    {
        // Read in closing order alone, a burst brings the skips of now with the time-outs of a window ago: a "drop".
        var (uncounted, _) = Product(Bursty, _ => 0.4, 900, counted: false, seed);
        Assert.NotEmpty(uncounted);

        var (alarms, watch) = Product(Bursty, _ => 0.4, 900, counted: true, seed);

        Assert.Empty(alarms);
        Assert.True(watch.Dismissed >= 1, "the bursts raised no suspicion to dismiss");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Observe_MoreSkipsFromOneMoment_AlarmsSoonAfterTheClosingOrderTest(int seed, bool bursty)
    {
        // At t = 500 the share of skips goes from 0.3 to 0.6: the mean reward of a decision falls from 0.57 to 0.33.
        Func<double, double> rate = bursty ? Bursty : _ => 100;
        static double Skip(double t) => t < 500 ? 0.3 : 0.6;
        var (uncounted, _) = Product(rate, Skip, 900, counted: false, seed);
        var (alarms, _) = Product(rate, Skip, 900, counted: true, seed);

        var (alarm, at) = Assert.Single(alarms);
        Assert.InRange(at, 500, 540);
        Assert.InRange(alarm.ChangeSequence, 40_000, 55_000);
        // Confirmed within a few of the window's sixteenths (2 s each) after the test fired in closing order.
        Assert.InRange(at - uncounted.Last(a => a.At <= at).At, 0, 8);
    }

    [Fact]
    public void Take_ClearsOnlyTheAlarmTaken()
    {
        var watch = new DriftWatch();
        var random = new Random(3);
        var first = Assert.Single(Feed(watch, random, 1, 10_000, s => s <= 5000 ? 0.9 : 0.5, ZeroOne));
        var second = Assert.Single(Feed(watch, random, 10_001, 10_000, s => s <= 15_000 ? 0.5 : 0.1, ZeroOne));

        watch.Take(first);
        Assert.Same(second, watch.Pending);
        watch.Take(second);
        Assert.Null(watch.Pending);
        Assert.Same(second, watch.Last);
    }
}
