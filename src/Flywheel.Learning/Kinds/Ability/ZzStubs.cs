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
public sealed record StreakRules(int GraceDays = 0, int DayStartHour = 0);
public readonly record struct StreakState(int Current, int Best);
public readonly record struct StreakReading(int Current, int Best, int ActiveDays, DateOnly? LastActiveDay, bool AtRisk, string? TimeZone);
public static class Streaks
{
    public static StreakState Empty => default;
    public static StreakState Record(StreakState s, DateTimeOffset at, string? tz, StreakRules r) => s;
    public static StreakReading Read(StreakState s, DateTimeOffset now, StreakRules r) => default;
    public static bool IsValidTimeZone(string id) => true;
    public static void Write(BinaryWriter w, StreakState s) { }
    public static StreakState Read(BinaryReader r) => default;
}
