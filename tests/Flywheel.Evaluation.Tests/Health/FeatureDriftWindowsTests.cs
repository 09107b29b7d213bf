using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

/// <summary>Which spans of time feature drift compares, and why whole days matter for time-of-day features.</summary>
public sealed class FeatureDriftWindowsTests
{
    private static readonly DateTimeOffset First = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(60.0, 7.0)]
    [InlineData(14.0, 7.0)]
    [InlineData(13.9, 1.0)]
    [InlineData(2.0, 1.0)]
    [InlineData(1.5, 0.75)]
    public void Windows_LogSpan_NewestWeekOrDayOrHalfAgainstTheSameSpanBefore(double spanDays, double windowDays)
    {
        var last = First.AddDays(spanDays);

        var (baselineFrom, recentFrom, to) = FeatureDrifts.Windows(First, last)!.Value;

        Assert.Equal(last.AddTicks(1), to);
        Assert.Equal(TimeSpan.FromDays(windowDays), to - recentFrom);
        Assert.Equal(TimeSpan.FromDays(windowDays), recentFrom - baselineFrom);
    }

    [Fact]
    public void Windows_NoSpan_Null()
        => Assert.Null(FeatureDrifts.Windows(First, First));

    [Fact]
    public void Compute_HourOfDaySampledOverWholeDays_StableWhileOneAfternoonAgainstTheEveningBeforeLooksShifted()
    {
        // A loop with a decision every 5 minutes for 30 days; the hour feature never changes its distribution.
        var contexts = new List<(DateTimeOffset At, Features Context)>();
        for (var t = First; t < First.AddDays(30); t = t.AddMinutes(5))
        {
            contexts.Add((t, new Features { ["session"] = { ["hour"] = t.Hour } }));
        }
        var (baselineFrom, recentFrom, to) = FeatureDrifts.Windows(contexts[0].At, contexts[^1].At)!.Value;

        var wholeWeeks = FeatureDrifts.Compute(Spread(baselineFrom, recentFrom), Spread(recentFrom, to));
        var lastHours = FeatureDrifts.Compute(contexts[^400..^200].Select(c => c.Context).ToList(), contexts[^200..].Select(c => c.Context).ToList());

        Assert.True(wholeWeeks.Single(d => d.Feature == "session.hour").Psi < 0.1);
        Assert.True(lastHours.Single(d => d.Feature == "session.hour").Psi > 0.25);

        List<Features> Spread(DateTimeOffset from, DateTimeOffset until)
        {
            var window = contexts.Where(c => c.At >= from && c.At < until).ToList();
            return [.. Enumerable.Range(0, 500).Select(i => window[(2 * i + 1) * window.Count / 1000].Context)];
        }
    }
}
