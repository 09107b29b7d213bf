namespace Flywheel.LoadTest;

/// <summary>
/// Which decision each signal names. <c>random</c>: uniformly among the pool, so a batch of 1,000 touches ~1,000
/// scattered decisions. <c>sequential</c>: the senders share a cursor that walks the pool in creation order, as when
/// signals follow their decisions in time, so one batch names consecutive decisions.
/// </summary>
internal sealed class DecisionPicker(string[] decisionIds, bool sequential)
{
    private long _cursor = -1;

    public bool Sequential { get; } = sequential;

    public int Count => decisionIds.Length;

    /// <summary>For sequential picking: reserves <paramref name="count"/> consecutive positions and returns the first.</summary>
    public long Reserve(int count) => Sequential ? Interlocked.Add(ref _cursor, count) - count + 1 : 0;

    public string At(long position) => decisionIds[(int)(position % decisionIds.Length)];

    public string Random(Random random) => decisionIds[random.Next(decisionIds.Length)];
}
