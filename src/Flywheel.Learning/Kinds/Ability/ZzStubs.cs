#pragma warning disable CS1591
namespace Flywheel.Learning;
public readonly record struct MemoryState(double Difficulty, double Stability);
public readonly record struct ReviewCard(MemoryState Memory, DateTimeOffset LastReview, DateTimeOffset Due, int Reviews, int Lapses);
public sealed class Fsrs
{
    public static Fsrs ForRetention(double r) => new();
    public ReviewCard Review(ReviewCard? card, DateTimeOffset at, int grade) => new(new(5, 1), at, at.AddDays(1), (card?.Reviews ?? 0) + 1, 0);
    public double Recall(ReviewCard card, DateTimeOffset at) => 0.9;
}
