namespace Flywheel.Simulation;

/// <summary>Settings of one simulation run.</summary>
public sealed record SimulationOptions
{
    /// <summary>Default initial users per product.</summary>
    public const int DefaultUsers = 100;

    /// <summary>Days to simulate, from 1 January 2027. <value>Default 365.</value></summary>
    public int Days { get; init; } = 365;

    /// <summary>Users each product has at launch (its market grows from there). <value>Default 100.</value></summary>
    public int Users { get; init; } = DefaultUsers;

    /// <summary>Seed of every random draw in the world. <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where each product's store goes: one folder per product, named by its key, emptied first.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Days is < 1 or > 3650)
        {
            throw new ArgumentOutOfRangeException(nameof(Days), Days, "days must be from 1 to 3,650");
        }
        if (Users is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(Users), Users, "users must be from 1 to 1,000,000");
        }
        ArgumentException.ThrowIfNullOrEmpty(DataDirectory);
    }
}

/// <summary>The simulation's calendar: day 1 is 1 January 2027 (UTC); months are calendar months.</summary>
public static class SimulationCalendar
{
    /// <summary>Midnight UTC of day 1.</summary>
    public static readonly DateTimeOffset Start = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Midnight UTC of day <paramref name="day"/>.</summary>
    public static DateTimeOffset DateOf(int day) => Start.AddDays(day - 1);

    /// <summary>The 1-based calendar month of day <paramref name="day"/>, counted from the start.</summary>
    public static int MonthOf(int day)
    {
        var date = DateOf(day);
        return (date.Year - Start.Year) * 12 + date.Month;
    }

    /// <summary>The day on which <paramref name="at"/> falls.</summary>
    public static int DayOf(DateTimeOffset at) => (int)Math.Floor((at - Start).TotalDays) + 1;

    /// <summary>Short name of a month, such as <c>Jan 2027</c>.</summary>
    public static string MonthName(int month) => Start.AddMonths(month - 1).ToString("MMM yyyy", System.Globalization.CultureInfo.InvariantCulture);
}
