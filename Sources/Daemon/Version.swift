public enum VigilVersion {
    public static let number = "0.1.0"
    public static let text = "Vigil v\(number) (keepalived 2.2.7 compatible)"
}
